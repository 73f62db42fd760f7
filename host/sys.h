/*
 * The Linux system calls the host side makes, as raw x86_64 system calls
 * with the kernel's own structure layouts (not glibc's): the same code then
 * runs in ingot-kvm, which links glibc, and in a hosted image, which links
 * no C library.  Results are the kernel's: a negative errno on failure.
 *
 * Only host/ and platform/hosted include this.  The names are the kernel's,
 * so a file that includes it includes no glibc header beyond <string.h>,
 * <stdio.h>, <errno.h> and the compiler's own.
 */
#ifndef HOST_SYS_H
#define HOST_SYS_H

#include <stddef.h>
#include <stdint.h>

enum {
	SYS_read = 0,
	SYS_write = 1,
	SYS_close = 3,
	SYS_fstat = 5,
	SYS_lseek = 8,
	SYS_mmap = 9,
	SYS_mprotect = 10,
	SYS_rt_sigaction = 13,
	SYS_rt_sigprocmask = 14,
	SYS_rt_sigreturn = 15,
	SYS_ioctl = 16,
	SYS_pread64 = 17,
	SYS_pwrite64 = 18,
	SYS_readv = 19,
	SYS_writev = 20,
	SYS_socket = 41,
	SYS_connect = 42,
	SYS_bind = 49,
	SYS_flock = 73,
	SYS_fdatasync = 75,
	SYS_sigaltstack = 131,
	SYS_prctl = 157,
	SYS_clock_gettime = 228,
	SYS_exit_group = 231,
	SYS_openat = 257,
	SYS_ppoll = 271,
	SYS_dup3 = 292,
	SYS_pipe2 = 293,
	SYS_seccomp = 317,
	SYS_getrandom = 318,
};

static inline long syscall6(long nr, long a, long b, long c, long d, long e,
			    long f)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8),
			   "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#define syscall3(nr, a, b, c)                                                  \
	syscall6(nr, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define syscall4(nr, a, b, c, d)                                               \
	syscall6(nr, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

static inline _Noreturn void sys_exit(int status)
{
	for (;;)
		syscall3(SYS_exit_group, status, 0, 0);
}

#define AT_FDCWD        (-100)
#define O_RDONLY        0
#define O_RDWR          2
#define O_NONBLOCK      04000
#define O_DIRECT        040000
#define O_CLOEXEC       02000000
#define CLOCK_REALTIME  0
#define CLOCK_MONOTONIC 1

#define SIGINT       2
#define SIGUSR1      10
#define SIGPIPE      13
#define SIGTERM      15
#define SIG_IGN      ((void (*)(int, void *, void *))1)
#define SIG_BLOCK    0
#define SIG_SETMASK  2
#define SIGMASK(sig) (1ULL << ((sig)-1))
#define SA_SIGINFO   0x4
#define SA_ONSTACK   0x08000000
#define SA_RESTORER  0x04000000
#define SA_RESTART   0x10000000

#define POLLIN  0x1
#define POLLOUT 0x4

#define AF_INET         2
#define SOCK_DGRAM      2
#define SOCK_NONBLOCK   04000
#define SOCK_CLOEXEC    02000000
#define TUNSETIFF       0x400454ca
#define TUNGETIFF       0x800454d2
#define TUNSETOFFLOAD   0x400454d0
#define TUNSETVNETHDRSZ 0x400454d8
#define TUN_F_CSUM      0x01
#define TUN_F_TSO4      0x02
#define SIOCGIFINDEX    0x8933
#define SIOCGIFTXQLEN   0x8942
#define SIOCSIFTXQLEN   0x8943
#define IFF_TAP         0x0002
#define IFF_NO_PI       0x1000
#define IFF_PERSIST     0x0800
#define IFF_VNET_HDR    0x4000
#define IFNAMSIZ        16

struct kernel_pollfd {
	int fd;
	short events, revents;
};

struct kernel_iovec {
	void *base;
	size_t len;
};

/* The tap device's per-frame header (virtio-net's, without num_buffers). */
struct kernel_virtio_net_hdr {
	uint8_t flags; /* VIRTIO_NET_HDR_F_* */
	uint8_t gso_type;
	uint16_t hdr_len, gso_size, csum_start, csum_offset;
};
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE     0
#define VIRTIO_NET_HDR_GSO_TCPV4    1
#define VIRTIO_NET_HDR_GSO_ECN      0x80

struct kernel_sockaddr_in {
	uint16_t family;
	uint16_t port; /* network order */
	uint32_t addr; /* network order */
	uint8_t zero[8];
};

struct kernel_ifreq {
	char name[IFNAMSIZ];
	union {
		short flags;
		int ifindex;
		int qlen;
		char pad[24];
	} u;
};

#define LOCK_SH 1
#define LOCK_EX 2
#define LOCK_NB 4

#define S_IFMT  0170000
#define S_IFREG 0100000
#define S_IFBLK 0060000

/* x86_64's struct stat, as far as the host side reads it. */
struct kernel_stat {
	uint64_t dev, ino, nlink;
	uint32_t mode, uid, gid, pad0;
	uint64_t rdev;
	int64_t size, blksize, blocks;
	uint64_t times[6];
	int64_t unused[3];
};

struct kernel_timespec {
	int64_t tv_sec, tv_nsec;
};

struct kernel_sigaction {
	void (*handler)(int, void *, void *);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

#endif

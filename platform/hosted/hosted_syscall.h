/*
 * Linux system calls and kernel structures, for a process that links no C
 * library.  Layouts are the x86_64 kernel's (not glibc's).
 */
#ifndef HOSTED_SYSCALL_H
#define HOSTED_SYSCALL_H

#include <stddef.h>
#include <stdint.h>

enum {
	SYS_read = 0,
	SYS_write = 1,
	SYS_close = 3,
	SYS_ioctl = 16,
	SYS_readv = 19,
	SYS_socket = 41,
	SYS_connect = 42,
	SYS_bind = 49,
	SYS_mmap = 9,
	SYS_mprotect = 10,
	SYS_rt_sigaction = 13,
	SYS_rt_sigprocmask = 14,
	SYS_rt_sigreturn = 15,
	SYS_lseek = 8,
	SYS_sigaltstack = 131,
	SYS_prctl = 157,
	SYS_clock_gettime = 228,
	SYS_exit_group = 231,
	SYS_openat = 257,
	SYS_ppoll = 271,
	SYS_seccomp = 317,
	SYS_getrandom = 318,
	SYS_dup3 = 292,
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

#define syscall3(nr, a, b, c) syscall6(nr, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define syscall4(nr, a, b, c, d)                                               \
	syscall6(nr, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

#define PROT_NONE 0
#define PROT_READ 1
#define PROT_WRITE 2
#define MAP_PRIVATE 0x02
#define MAP_ANONYMOUS 0x20
#define MAP_NORESERVE 0x4000
#define AT_FDCWD (-100)
#define O_RDONLY 0
#define O_RDWR 2
#define O_NONBLOCK 04000
#define O_CLOEXEC 02000000
#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define PR_SET_NO_NEW_PRIVS 38
#define SECCOMP_SET_MODE_FILTER 1

#define SIGILL 4
#define SIGTRAP 5
#define SIGBUS 7
#define SIGFPE 8
#define SIGSEGV 11
#define SIGSYS 31
#define SIGINT 2
#define SIGUSR1 10
#define SIGTERM 15
#define SIG_BLOCK 0
#define SIG_SETMASK 2
#define SIGMASK(sig) (1ULL << ((sig) - 1))
#define SA_SIGINFO 0x4
#define SA_ONSTACK 0x08000000
#define SA_RESTORER 0x04000000
#define SA_RESTART 0x10000000
#define BUS_ADRALN 1

#define AF_INET 2
#define SOCK_DGRAM 2
#define SOCK_NONBLOCK 04000
#define SOCK_CLOEXEC 02000000
#define TUNSETIFF 0x400454ca
#define IFF_TAP 0x0002
#define IFF_NO_PI 0x1000

struct kernel_pollfd {
	int fd;
	short events, revents;
};

struct kernel_iovec {
	void *base;
	size_t len;
};

struct kernel_sockaddr_in {
	uint16_t family;
	uint16_t port; /* network order */
	uint32_t addr; /* network order */
	uint8_t zero[8];
};

struct kernel_ifreq {
	char name[16];
	short flags;
	char pad[22];
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

struct kernel_stack {
	void *sp;
	int flags;
	uint64_t size;
};

struct kernel_siginfo {
	int signo, errno_, code, pad;
	union {
		void *addr; /* SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP */
		struct {
			void *call_addr; /* SIGSYS */
			int syscall;
			unsigned arch;
		} sys;
	} u;
};

/* The general registers in a signal frame's ucontext, by index. */
enum {
	REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
	REG_RDI, REG_RSI, REG_RBP, REG_RBX, REG_RDX, REG_RAX, REG_RCX, REG_RSP,
	REG_RIP, REG_EFL, REG_CSGSFS, REG_ERR, REG_TRAPNO, REG_OLDMASK,
	REG_CR2, NGREG
};

struct kernel_ucontext {
	unsigned long flags;
	struct kernel_ucontext *link;
	struct kernel_stack stack;
	uint64_t gregs[NGREG];
};

/* The BPF program seccomp takes. */
struct sock_filter {
	uint16_t code;
	uint8_t jt, jf;
	uint32_t k;
};
struct sock_fprog {
	unsigned short len;
	const struct sock_filter *filter;
};

#endif

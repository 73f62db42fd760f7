/*
 * The monitor's own confinement, installed before the guest's first
 * instruction: no capabilities, and only the system calls that serving the
 * guest needs, each narrowed to its file descriptor and request where
 * libseccomp allows.  At the seal a second filter takes away the calls
 * that only sealing needed (changing memory slots and the CPU's special
 * registers).  Anything else kills the whole monitor (a compromised
 * monitor must not get further).
 */
#include <errno.h>
#include <pthread.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/kvm.h>
#include <linux/if_tun.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../host/block.h"
#include "../host/net.h"
#include "monitor.h"

/* Both filters are compiled before the first forbids the memory
 * allocation that compiling takes. */
static struct sock_fprog running_filter, sealed_filter;
static pthread_t compiler;

static void allow(scmp_filter_ctx ctx, int nr, unsigned n,
		  const struct scmp_arg_cmp *args)
{
	int rc = n ? seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, args)
		   : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	if (rc < 0)
		mon_fail("seccomp: cannot allow system call %d: error %d", nr,
			 rc);
}

static void allow_ioctl(scmp_filter_ctx ctx, int fd, unsigned long request)
{
	struct scmp_arg_cmp args[] = {SCMP_A0(SCMP_CMP_EQ, (unsigned)fd),
				      SCMP_A1(SCMP_CMP_EQ, request)};
	allow(ctx, SCMP_SYS(ioctl), 2, args);
}

/* A network backend: frames in and out, and its offloads set when the
 * guest attaches (taken away at the seal). */
static void allow_tap(void *ctx, int fd)
{
	struct scmp_arg_cmp a = SCMP_A0(SCMP_CMP_EQ, (unsigned)fd);
	allow(ctx, SCMP_SYS(writev), 1, &a);
	allow(ctx, SCMP_SYS(readv), 1, &a);
	allow_ioctl(ctx, fd, TUNSETOFFLOAD);
}

static void take_ioctl(scmp_filter_ctx ctx, int fd, unsigned long request)
{
	struct scmp_arg_cmp a[] = {SCMP_A0(SCMP_CMP_EQ, (unsigned)fd),
				   SCMP_A1(SCMP_CMP_EQ, request)};
	if (seccomp_rule_add_array(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(ioctl),
				   2, a) < 0)
		mon_fail("seccomp: cannot build the seal's filter");
}

static void take_tap(void *ctx, int fd)
{
	take_ioctl(ctx, fd, TUNSETOFFLOAD);
}

/* A block device's file: sectors in (and out, unless read-only) at an
 * offset, and flushes; none of them when its requests go through
 * io_uring. */
static void allow_block(void *ctx, int fd, bool ro)
{
	if (host_block_uring_fd() >= 0)
		return;
	struct scmp_arg_cmp a = SCMP_A0(SCMP_CMP_EQ, (unsigned)fd);
	allow(ctx, SCMP_SYS(pread64), 1, &a);
	if (!ro)
		allow(ctx, SCMP_SYS(pwrite64), 1, &a);
	allow(ctx, SCMP_SYS(fdatasync), 1, &a);
}

/* Root is needed only to open /dev/kvm and the tap devices, done by now. */
static void drop_capabilities(void)
{
	struct __user_cap_header_struct h = {.version =
						 _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct none[2] = {{0}};

	/* One call per capability, until EINVAL past the kernel's last;
	 * EPERM: without CAP_SETPCAP none can be (capset empties the rest). */
	for (int cap = 0;; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap) == 0)
			continue;
		if (errno == EINVAL || errno == EPERM)
			break;
		mon_fail("cannot drop capability %d: %m", cap);
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 &&
	    errno != EINVAL)
		mon_fail("cannot clear ambient capabilities: %m");
	if (syscall(SYS_capset, &h, none) < 0)
		mon_fail("cannot drop capabilities: %m");
}

/* libseccomp 2.5 exports BPF only to a file descriptor. */
static void export(scmp_filter_ctx ctx, struct sock_fprog *out)
{
	int fd = memfd_create("ingot-filter", MFD_CLOEXEC);
	if (fd < 0 || seccomp_export_bpf(ctx, fd) < 0)
		mon_fail("seccomp: cannot export a filter: %m");
	off_t size = lseek(fd, 0, SEEK_END);
	struct sock_filter *prog = malloc(size > 0 ? size : 1);
	if (size <= 0 || size % sizeof *prog || !prog ||
	    pread(fd, prog, size, 0) != size)
		mon_fail("seccomp: cannot read a filter back");
	close(fd);
	seccomp_release(ctx);
	out->len = size / sizeof *prog;
	out->filter = prog;
}

static void compile_sealed_filter(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		mon_fail("seccomp_init failed");
	take_ioctl(ctx, MON_VCPU_FD, KVM_SET_SREGS);
	host_net_fds(take_tap, ctx);
	export(ctx, &sealed_filter);
}

static void compile_running_filter(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		mon_fail("seccomp_init failed");

	allow_ioctl(ctx, MON_VCPU_FD, KVM_RUN);
	allow_ioctl(ctx, MON_VCPU_FD, KVM_GET_REGS);
	allow_ioctl(ctx, MON_VCPU_FD, KVM_GET_SREGS); /* faults; seal */
	allow_ioctl(ctx, MON_VCPU_FD, KVM_SET_SREGS); /* seal: new CR3 */
	struct scmp_arg_cmp filter =
	    SCMP_A0(SCMP_CMP_EQ, SECCOMP_SET_MODE_FILTER);
	allow(ctx, SCMP_SYS(seccomp), 1, &filter); /* the seal's filter */
	/* Signals only to its own threads: the watchdog's to the vCPU. */
	struct scmp_arg_cmp self[] = {SCMP_A0(SCMP_CMP_EQ, getpid()),
				      SCMP_A2(SCMP_CMP_EQ, SIGUSR2)};
	allow(ctx, SCMP_SYS(tgkill), 2, self);

	struct scmp_arg_cmp out = SCMP_A0(SCMP_CMP_EQ, 1);
	struct scmp_arg_cmp err = SCMP_A0(SCMP_CMP_EQ, 2);
	allow(ctx, SCMP_SYS(write), 1, &out);
	allow(ctx, SCMP_SYS(write), 1, &err);

	host_net_fds(allow_tap, ctx);
	host_block_fds(allow_block, ctx);
	/* The taps' io_uring, set up and confined to reads and writes before
	 * this filter (host/net_uring.c): only entering it. */
	int uring = host_net_uring_fd();
	if (uring >= 0) {
		struct scmp_arg_cmp a = SCMP_A0(SCMP_CMP_EQ, (unsigned)uring);
		allow(ctx, SCMP_SYS(io_uring_enter), 1, &a);
	}
	/* The block files' io_uring likewise (host/block_uring.c), and
	 * reading its eventfd after a sleep that it ended. */
	uring = host_block_uring_fd();
	if (uring >= 0) {
		struct scmp_arg_cmp a = SCMP_A0(SCMP_CMP_EQ, (unsigned)uring);
		allow(ctx, SCMP_SYS(io_uring_enter), 1, &a);
		struct scmp_arg_cmp e =
		    SCMP_A0(SCMP_CMP_EQ, (unsigned)host_block_uring_eventfd());
		allow(ctx, SCMP_SYS(read), 1, &e);
	}

	static const int plain[] = {
	    SCMP_SYS(ppoll),
	    SCMP_SYS(clock_gettime),
	    SCMP_SYS(clock_nanosleep),
	    SCMP_SYS(exit_group),
	    SCMP_SYS(exit),
	    SCMP_SYS(rt_sigreturn),
	    SCMP_SYS(futex),
	    SCMP_SYS(getpid),
	    SCMP_SYS(rt_sigprocmask),
	};
	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
		allow(ctx, plain[i], 0, NULL);
	export(ctx, &running_filter);
}

static void *compile_filters(void *unused)
{
	(void)unused;
	compile_sealed_filter();
	compile_running_filter();
	return NULL;
}

/*
 * Compiling the two filters takes libseccomp a few hundred microseconds,
 * a sixth of a launch: another CPU does it while KVM creates the VM.  The
 * descriptors they name are fixed by then (host/fds.h, MON_VCPU_FD).
 */
void seccomp_prepare(void)
{
	if (pthread_create(&compiler, NULL, compile_filters, NULL) != 0)
		mon_fail("cannot start a thread: %m");
}

void seccomp_seal(struct guest *g)
{
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		    SECCOMP_FILTER_FLAG_TSYNC, &sealed_filter) != 0)
		mon_stop(g, "cannot seal the monitor's system calls: %m");
}

void seccomp_confine(void)
{
	if (pthread_join(compiler, NULL) != 0)
		mon_fail("cannot join the filters' thread");
	drop_capabilities();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		mon_fail("cannot set no_new_privs: %m");
	/* Every thread, the watchdog's included. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		    SECCOMP_FILTER_FLAG_TSYNC, &running_filter) != 0)
		mon_fail("seccomp: cannot load the filter: %m");
}

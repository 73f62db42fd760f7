/*
 * The monitor's own confinement, installed before the guest's first
 * instruction: only the system calls that serving the guest needs, each
 * narrowed to its file descriptor and request where libseccomp allows.
 * Anything else kills the whole monitor (a compromised monitor must not
 * get further).
 */
#include <linux/kvm.h>
#include <seccomp.h>
#include <stdlib.h>
#include <sys/syscall.h>

#include "monitor.h"

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

/* A tap device: frames in and out, nothing else. */
static void allow_tap(void *ctx, int fd)
{
	struct scmp_arg_cmp a = SCMP_A0(SCMP_CMP_EQ, (unsigned)fd);
	allow(ctx, SCMP_SYS(write), 1, &a);
	allow(ctx, SCMP_SYS(readv), 1, &a);
}

void seccomp_confine(struct guest *g)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		mon_fail("seccomp_init failed");
	/* Every thread, the watchdog's included. */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) < 0)
		mon_fail("seccomp: cannot synchronise threads");

	allow_ioctl(ctx, g->vcpu_fd, KVM_RUN);
	allow_ioctl(ctx, g->vcpu_fd, KVM_GET_REGS);
	allow_ioctl(ctx, g->vcpu_fd, KVM_GET_SREGS);   /* seal: new CR3 */
	allow_ioctl(ctx, g->vcpu_fd, KVM_SET_SREGS);
	allow_ioctl(ctx, g->vm_fd, KVM_SET_USER_MEMORY_REGION); /* seal */

	struct scmp_arg_cmp out = SCMP_A0(SCMP_CMP_EQ, 1);
	struct scmp_arg_cmp err = SCMP_A0(SCMP_CMP_EQ, 2);
	allow(ctx, SCMP_SYS(write), 1, &out);
	allow(ctx, SCMP_SYS(write), 1, &err);

	net_allow_fds(allow_tap, ctx);

	static const int plain[] = {
	    SCMP_SYS(ppoll),	     SCMP_SYS(clock_gettime),
	    SCMP_SYS(clock_nanosleep), SCMP_SYS(exit_group),
	    SCMP_SYS(exit),	     SCMP_SYS(rt_sigreturn),
	    SCMP_SYS(futex),	     SCMP_SYS(getpid),
	    SCMP_SYS(tgkill),	     SCMP_SYS(rt_sigprocmask),
	};
	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
		allow(ctx, plain[i], 0, NULL);

	int rc = seccomp_load(ctx);
	if (rc < 0)
		mon_fail("seccomp: cannot load the filter: error %d", rc);
	seccomp_release(ctx);
}

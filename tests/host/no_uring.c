/*
 * Runs a command on which io_uring_setup fails with ENOSYS, as on a kernel
 * built without io_uring: tests/test_uring.py runs ingot-kvm so to see it
 * fall back.  (kernel.io_uring_disabled would say the same to every
 * program on the machine.)
 *
 *   no_uring COMMAND [ARGS...]
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: no_uring COMMAND [ARGS...]\n");
		return 2;
	}
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
			     SCMP_SYS(io_uring_setup), 0) < 0 ||
	    seccomp_load(ctx) < 0) {
		fprintf(stderr, "no_uring: cannot load the filter\n");
		return 125;
	}
	execv(argv[1], argv + 1);
	perror(argv[1]);
	return 126;
}

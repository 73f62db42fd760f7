/* The ABI calls on the hosted target: each is at most a system call or two,
 * all of them on the seccomp allowlist, and checks the addresses it is
 * given as ingot-kvm does (abi.h). */
#include <errno.h>

#include "../../host/block.h"
#include "../../host/console.h"
#include "../../host/exit.h"
#include "../../host/fds.h"
#include "../../host/msg.h"
#include "../../host/net.h"
#include "../../host/wait.h"
#include "hosted.h"

const struct ingot_boot_info *ingot_boot_info(void)
{
	return &hosted.info;
}

/* A buffer the guest hands over to be read. */
static const void *guest_buffer(const char *call, const void *buf, size_t len)
{
	const void *p = hosted_guest_ptr((uintptr_t)buf, len, false);
	if (!p)
		host_stop("%s with a buffer outside guest memory (0x%lx, %lu "
			  "bytes)",
			  call, (unsigned long)(uintptr_t)buf,
			  (unsigned long)len);
	return p;
}

int ingot_console_write(const char *buf, size_t len)
{
	host_console_write(guest_buffer("console write", buf, len), len);
	return 0;
}

uint64_t hosted_clock(int clock)
{
	struct kernel_timespec ts;
	syscall3(SYS_clock_gettime, clock, &ts, 0);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

uint64_t host_now(void)
{
	return hosted_clock(CLOCK_MONOTONIC);
}

uint64_t ingot_clock_monotonic(void)
{
	return hosted_clock(CLOCK_MONOTONIC) - hosted.mono_at_boot;
}

uint64_t ingot_clock_wall(void)
{
	return hosted_clock(CLOCK_REALTIME);
}

int ingot_poll(uint64_t deadline_ns, uint64_t *ready_set, uint64_t *now_ns)
{
	return ingot_poll_for(deadline_ns, INGOT_WAKE_ANY, ready_set, now_ns);
}

int ingot_poll_for(uint64_t deadline_ns, uint64_t wake_set, uint64_t *ready_set,
		   uint64_t *now_ns)
{
	uint64_t now,
	    ready = host_poll(deadline_ns, wake_set, hosted.mono_at_boot, &now);
	if (ready_set)
		*ready_set = ready;
	if (now_ns)
		*now_ns = now;
	return 0;
}

int ingot_net_attach(uint32_t handle, struct ingot_net_ring *tx,
		     struct ingot_net_ring *rx)
{
	if (hosted.sealed)
		return -EPERM;
	return host_net_attach(handle, (uintptr_t)tx, (uintptr_t)rx);
}

int ingot_block_attach(uint32_t handle, struct ingot_block_ring *ring)
{
	if (hosted.sealed)
		return -EPERM;
	return host_block_attach(handle, (uintptr_t)ring);
}

/*
 * The allowlist lets the sealed guest use the descriptor of every device
 * handle, attached or not: one that no device uses is closed here, so that
 * a descriptor inherited at that number is not the guest's to write.  Past
 * the seal no system call makes a descriptor, so none can reappear there.
 */
static void close_unused_device_fds(void)
{
	struct ingot_net_info info;
	struct ingot_block_info block;
	for (unsigned h = 0; h < INGOT_DEVICES_MAX; h++) {
		if (!host_net_info(h, &info))
			syscall3(SYS_close, HOST_NET_FD_BASE + h, 0, 0);
		if (!host_block_info(h, &block))
			syscall3(SYS_close, HOST_BLOCK_FD_BASE + h, 0, 0);
	}
}

int ingot_seal(void)
{
	struct sock_fprog prog = {hosted_seccomp_len, hosted_seccomp_filter};

	if (hosted.sealed)
		return -EPERM;
	close_unused_device_fds();
	long rc = syscall6(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0);
	if (rc == 0)
		rc = syscall3(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
	if (rc < 0)
		return (int)rc;
	hosted.sealed = true;
	return 0;
}

void ingot_exit(int status)
{
	host_exit(host_guest_status(status));
}

void ingot_abort(const char *msg, size_t len)
{
	const char *p = guest_buffer("abort", msg, len);
	if (len > 900)
		len = 900;
	host_msg("guest aborted: %.*s", (int)len, p);
	host_exit(INGOT_EXIT_ABORT);
}

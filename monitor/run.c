/*
 * The vCPU loop: run the guest, serve its exits.  Anything the ABI does not
 * allow (a stray port, a write to sealed or read-only memory, a halt)
 * stops the guest with a message that says what it did and where.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <sys/ioctl.h>

#include "monitor.h"

/* "0x... <function+0x...>" for a guest code address. */
static const char *where(struct guest *g, uint64_t rip, char *buf, size_t size)
{
	uint64_t off;
	const char *name = elfsym_lookup(&g->img.syms, rip, &off);
	if (name)
		snprintf(buf, size, "0x%lx <%s+0x%lx>", (unsigned long)rip,
			 name, (unsigned long)off);
	else
		snprintf(buf, size, "0x%lx", (unsigned long)rip);
	return buf;
}

static uint64_t guest_rip(struct guest *g)
{
	struct kvm_regs regs;
	return ioctl(g->vcpu_fd, KVM_GET_REGS, &regs) == 0 ? regs.rip : 0;
}

static const char *region_name(struct guest *g, uint64_t pa)
{
	if (pa < INGOT_KVM_GDT_BASE)
		return "its boot information";
	if (pa < INGOT_KVM_IMAGE_BASE)
		return "the monitor's descriptor tables or stubs";
	if (pa < g->img.ro_end)
		return "its read-only code or data";
	if (pa >= g->tables_start && pa < g->tables_end)
		return "its page tables";
	return "memory that does not exist";
}

static _Noreturn void bad_mmio(struct guest *g)
{
	char buf[160];
	uint64_t pa = g->run->mmio.phys_addr;

	mon_stop(g, "guest %s %s at 0x%lx (physical 0x%lx), from %s",
		 g->run->mmio.is_write ? "wrote to" : "read",
		 region_name(g, pa), (unsigned long)(pa + g->img.offset),
		 (unsigned long)pa, where(g, guest_rip(g), buf, sizeof buf));
}

static void io_exit(struct guest *g)
{
	struct kvm_run *r = g->run;
	unsigned nr = r->io.port - INGOT_KVM_HC_BASE;
	char buf[160];

	if (r->io.port == INGOT_KVM_TRAP_PORT)
		trap_report(g);
	if (r->io.port < INGOT_KVM_HC_BASE || nr >= INGOT_KVM_HC_COUNT ||
	    r->io.direction != KVM_EXIT_IO_OUT || r->io.size != 4 ||
	    r->io.count != 1)
		mon_stop(g, "guest used I/O port 0x%x from %s", r->io.port,
			 where(g, guest_rip(g), buf, sizeof buf));
	uint32_t arg;
	__builtin_memcpy(&arg, (unsigned char *)r + r->io.data_offset,
			 sizeof arg);
	hypercall(g, nr, arg);
}

void run_guest(struct guest *g)
{
	char buf[160];

	for (;;) {
		if (ioctl(g->vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR && watchdog_fired()) {
				mon_msg(
				    "watchdog: the guest made no hypercall "
				    "for %u s (a fiber that never yields?); "
				    "it was running %s",
				    g->watchdog_s,
				    where(g, guest_rip(g), buf, sizeof buf));
				mon_exit(INGOT_EXIT_WATCHDOG);
			}
			if (errno == EINTR || errno == EAGAIN)
				continue;
			mon_stop(g, "KVM_RUN: %m");
		}
		g->stats.exits++;
		switch (g->run->exit_reason) {
		case KVM_EXIT_IO:
			io_exit(g);
			break;
		case KVM_EXIT_MMIO:
			bad_mmio(g);
		case KVM_EXIT_HLT:
			mon_stop(g, "guest halted at %s",
				 where(g, guest_rip(g), buf, sizeof buf));
		case KVM_EXIT_SHUTDOWN:
			mon_msg(
			    "guest triple-faulted (a CPU exception it could "
			    "not handle) at %s",
			    where(g, guest_rip(g), buf, sizeof buf));
			mon_exit(INGOT_EXIT_ABORT);
		case KVM_EXIT_FAIL_ENTRY:
			mon_stop(g,
				 "KVM could not enter the guest (hardware "
				 "reason 0x%llx)",
				 (unsigned long long)g->run->fail_entry
				     .hardware_entry_failure_reason);
		case KVM_EXIT_INTERNAL_ERROR:
			mon_stop(g,
				 "KVM could not emulate an instruction of "
				 "the guest (suberror %u) at %s",
				 g->run->internal.suberror,
				 where(g, guest_rip(g), buf, sizeof buf));
		default:
			mon_stop(g, "unexpected exit %u from the guest at %s",
				 g->run->exit_reason,
				 where(g, guest_rip(g), buf, sizeof buf));
		}
	}
}

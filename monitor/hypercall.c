/*
 * Serving hypercalls.  Arguments come from guest memory and are untrusted:
 * each struct is copied out before use, and every address in it is checked
 * with vm_guest_ptr() (outputs must land in guest-writable memory, so a
 * guest cannot have the monitor write into its own code).
 */
#include <errno.h>
#include <string.h>

#include "../host/block.h"
#include "../host/console.h"
#include "../host/exit.h"
#include "../host/net.h"
#include "../host/wait.h"
#include "monitor.h"

static const char *const hc_names[INGOT_KVM_HC_COUNT] = {
    [INGOT_KVM_HC_CONSOLE] = "console",
    [INGOT_KVM_HC_POLL] = "poll",
    [INGOT_KVM_HC_SEAL] = "seal",
    [INGOT_KVM_HC_EXIT] = "exit",
    [INGOT_KVM_HC_ABORT] = "abort",
    [INGOT_KVM_HC_PROTECT] = "protect",
    [INGOT_KVM_HC_NET_ATTACH] = "net_attach",
    [INGOT_KVM_HC_BLOCK_ATTACH] = "block_attach",
};

/* The argument struct at physical address phys, checked and copied in. */
static void get_args(struct guest *g, unsigned nr, uint32_t phys, void *args,
		     size_t size)
{
	void *p = vm_guest_ptr(g, phys + g->img.offset, size, false);
	if (!p)
		mon_stop(g,
			 "%s hypercall with its arguments outside guest "
			 "memory (physical 0x%x)",
			 hc_names[nr], phys);
	memcpy(args, p, size);
}

static void put_args(struct guest *g, unsigned nr, uint32_t phys,
		     const void *args, size_t size)
{
	void *p = vm_guest_ptr(g, phys + g->img.offset, size, true);
	if (!p)
		mon_stop(g,
			 "%s hypercall with its results outside guest-"
			 "writable memory (physical 0x%x)",
			 hc_names[nr], phys);
	memcpy(p, args, size);
}

static const unsigned char *guest_buffer(struct guest *g, unsigned nr,
					 const struct ingot_kvm_console *c)
{
	const unsigned char *p = vm_guest_ptr(g, c->buf, c->len, false);
	if (!p)
		mon_stop(g,
			 "%s hypercall with a buffer outside guest memory "
			 "(0x%lx, %lu bytes)",
			 hc_names[nr], (unsigned long)c->buf,
			 (unsigned long)c->len);
	return p;
}

static void hc_console(struct guest *g, uint32_t phys)
{
	struct ingot_kvm_console c;

	get_args(g, INGOT_KVM_HC_CONSOLE, phys, &c, sizeof c);
	host_console_write(guest_buffer(g, INGOT_KVM_HC_CONSOLE, &c), c.len);
}

/* Serves the devices, then waits until one has news or the deadline. */
static void hc_poll(struct guest *g, uint32_t phys)
{
	struct ingot_kvm_poll p;

	get_args(g, INGOT_KVM_HC_POLL, phys, &p, sizeof p);
	p.ready_set =
	    host_poll(p.deadline_ns, p.wake_set ? p.wake_set : INGOT_WAKE_ANY,
		      g->host_mono_at_boot, &p.now_ns);
	put_args(g, INGOT_KVM_HC_POLL, phys, &p, sizeof p);
}

static void hc_net_attach(struct guest *g, uint32_t phys)
{
	struct ingot_kvm_net_attach a;

	get_args(g, INGOT_KVM_HC_NET_ATTACH, phys, &a, sizeof a);
	if (g->sealed)
		a.result = -EPERM;
	else if (a.handle >= INGOT_DEVICES_MAX)
		a.result = -ENODEV;
	else
		a.result = host_net_attach((unsigned)a.handle, a.tx, a.rx);
	put_args(g, INGOT_KVM_HC_NET_ATTACH, phys, &a, sizeof a);
}

static void hc_block_attach(struct guest *g, uint32_t phys)
{
	struct ingot_kvm_block_attach a;

	get_args(g, INGOT_KVM_HC_BLOCK_ATTACH, phys, &a, sizeof a);
	if (g->sealed)
		a.result = -EPERM;
	else if (a.handle >= INGOT_DEVICES_MAX)
		a.result = -ENODEV;
	else
		a.result = host_block_attach((unsigned)a.handle, a.ring);
	put_args(g, INGOT_KVM_HC_BLOCK_ATTACH, phys, &a, sizeof a);
}

static _Noreturn void hc_exit(struct guest *g, uint32_t phys)
{
	struct ingot_kvm_exit e;

	get_args(g, INGOT_KVM_HC_EXIT, phys, &e, sizeof e);
	mon_exit(host_guest_status((int64_t)e.status));
}

static _Noreturn void hc_abort(struct guest *g, uint32_t phys)
{
	struct ingot_kvm_console c;
	char msg[1024];

	get_args(g, INGOT_KVM_HC_ABORT, phys, &c, sizeof c);
	const unsigned char *p = guest_buffer(g, INGOT_KVM_HC_ABORT, &c);
	size_t n = c.len < sizeof msg - 1 ? c.len : sizeof msg - 1;
	/* Only printable text reaches the operator's terminal. */
	for (size_t i = 0; i < n; i++)
		msg[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? p[i] : '?';
	msg[n] = '\0';
	mon_msg("guest aborted: %s", msg);
	mon_exit(INGOT_EXIT_ABORT);
}

/* Carries out a batch of protection requests (abi_kvm.h); the platform
 * checked them, so a refusal means a hostile image. */
static void protect(struct guest *g, unsigned nr, uint32_t phys)
{
	struct ingot_kvm_protect_batch b;
	struct ingot_kvm_protect req[INGOT_KVM_PROTECT_BATCH_MAX];

	get_args(g, nr, phys, &b, sizeof b);
	if (b.count > INGOT_KVM_PROTECT_BATCH_MAX)
		mon_stop(g, "%s hypercall with %llu requests (at most %u)",
			 hc_names[nr], (unsigned long long)b.count,
			 INGOT_KVM_PROTECT_BATCH_MAX);
	const void *p =
	    vm_guest_ptr(g, b.ranges, b.count * sizeof req[0], false);
	if (!p)
		mon_stop(g,
			 "%s hypercall with its requests outside guest "
			 "memory (0x%llx)",
			 hc_names[nr], (unsigned long long)b.ranges);
	memcpy(req, p, b.count * sizeof req[0]);
	for (uint64_t i = 0; i < b.count; i++) {
		const char *why =
		    paging_protect(g, req[i].addr, req[i].len, req[i].prot);
		if (why)
			mon_stop(g,
				 "refused a protection request: %s (0x%llx, "
				 "%llu bytes, prot %llu)",
				 why, (unsigned long long)req[i].addr,
				 (unsigned long long)req[i].len,
				 (unsigned long long)req[i].prot);
	}
}

static void hc_protect(struct guest *g, uint32_t phys)
{
	if (g->sealed)
		mon_stop(g, "protect hypercall after the seal: refused");
	protect(g, INGOT_KVM_HC_PROTECT, phys);
}

static void hc_seal(struct guest *g, uint32_t phys)
{
	if (g->sealed)
		return;
	protect(g, INGOT_KVM_HC_SEAL, phys);
	vm_seal(g);
}

void hypercall(struct guest *g, unsigned nr, uint32_t phys)
{
	watchdog_enter_host();
	switch (nr) {
	case INGOT_KVM_HC_CONSOLE:
		hc_console(g, phys);
		break;
	case INGOT_KVM_HC_POLL:
		hc_poll(g, phys);
		break;
	case INGOT_KVM_HC_SEAL:
		hc_seal(g, phys);
		break;
	case INGOT_KVM_HC_PROTECT:
		hc_protect(g, phys);
		break;
	case INGOT_KVM_HC_NET_ATTACH:
		hc_net_attach(g, phys);
		break;
	case INGOT_KVM_HC_BLOCK_ATTACH:
		hc_block_attach(g, phys);
		break;
	case INGOT_KVM_HC_EXIT:
		hc_exit(g, phys);
	case INGOT_KVM_HC_ABORT:
		hc_abort(g, phys);
	default:
		mon_stop(g, "unknown hypercall %u", nr);
	}
	watchdog_leave_host();
}

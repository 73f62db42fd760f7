/* The ABI calls on kvm that are hypercalls, or guard one. */
#include <errno.h>

#include "../common/boot.h"
#include "kvm.h"

static bool sealed;

const struct ingot_boot_info *ingot_boot_info(void)
{
	return &kvm_boot->info;
}

int ingot_console_write(const char *buf, size_t len)
{
	struct ingot_kvm_console c = {.buf = (uintptr_t)buf, .len = len};
	kvm_hypercall(INGOT_KVM_HC_CONSOLE, &c);
	return 0;
}

int ingot_poll(uint64_t deadline_ns, uint64_t *ready_set, uint64_t *now_ns)
{
	return ingot_poll_for(deadline_ns, INGOT_WAKE_ANY, ready_set, now_ns);
}

int ingot_poll_for(uint64_t deadline_ns, uint64_t wake_set, uint64_t *ready_set,
		   uint64_t *now_ns)
{
	struct ingot_kvm_poll p = {.deadline_ns = deadline_ns,
				   .wake_set = wake_set};
	kvm_hypercall(INGOT_KVM_HC_POLL, &p);
	if (ready_set)
		*ready_set = p.ready_set;
	uint64_t now = kvm_clock_observe(p.now_ns);
	if (now_ns)
		*now_ns = now;
	return 0;
}

/*
 * Protection requests wait here and go to the monitor in batches: one exit
 * per batch rather than per request, and the last batch rides on the seal.
 */
static struct ingot_kvm_protect pending[INGOT_KVM_PROTECT_BATCH_MAX];
static struct ingot_kvm_protect_batch batch = {.ranges = (uintptr_t)pending};

int ingot_mem_protect(void *addr, size_t len, enum ingot_prot prot)
{
	uintptr_t a = (uintptr_t)addr;

	if (sealed)
		return -EPERM;
	if (!boot_protect_ok(a, len, prot))
		return -EINVAL;
	if (batch.count == INGOT_KVM_PROTECT_BATCH_MAX) {
		kvm_hypercall(INGOT_KVM_HC_PROTECT, &batch);
		batch.count = 0;
	}
	pending[batch.count++] =
	    (struct ingot_kvm_protect){.addr = a, .len = len, .prot = prot};
	return 0;
}

int ingot_seal(void)
{
	if (sealed)
		return -EPERM;
	kvm_hypercall(INGOT_KVM_HC_SEAL, &batch);
	batch.count = 0;
	sealed = true;
	return 0;
}

void ingot_exit(int status)
{
	struct ingot_kvm_exit e = {.status = (uint64_t)(int64_t)status};
	kvm_hypercall(INGOT_KVM_HC_EXIT, &e);
	for (;;)
		__asm__ volatile("ud2");
}

void ingot_abort(const char *msg, size_t len)
{
	struct ingot_kvm_console c = {.buf = (uintptr_t)msg, .len = len};
	kvm_hypercall(INGOT_KVM_HC_ABORT, &c);
	for (;;)
		__asm__ volatile("ud2");
}

int ingot_block_attach(uint32_t handle, struct ingot_block_ring *ring)
{
	struct ingot_kvm_block_attach a = {.handle = handle,
					   .ring = (uintptr_t)ring};
	kvm_hypercall(INGOT_KVM_HC_BLOCK_ATTACH, &a);
	return (int)a.result;
}

int ingot_net_attach(uint32_t handle, struct ingot_net_ring *tx,
		     struct ingot_net_ring *rx)
{
	struct ingot_kvm_net_attach a = {
	    .handle = handle, .tx = (uintptr_t)tx, .rx = (uintptr_t)rx};
	kvm_hypercall(INGOT_KVM_HC_NET_ATTACH, &a);
	return (int)a.result;
}

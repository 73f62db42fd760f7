/* The ABI calls on the virtio target that guard the memory map. */
#include <errno.h>

#include "../common/boot.h"
#include "virtio.h"
#include "virtio_dev.h"

const struct ingot_boot_info *ingot_boot_info(void)
{
	return &virtio.info;
}

/*
 * The devices' rings are served first; the vCPU sleeps only when that
 * brought no news, with the devices' interrupts armed (which a busy guest
 * never takes: see vq_arm), and serves them again when woken.
 */
int ingot_poll(uint64_t deadline_ns, uint64_t *ready_set, uint64_t *now_ns)
{
	uint64_t ready;
	for (;;) {
		ready = vnet_service() | vblk_service() | operator_take();
		if (ready)
			break;
		if (!vnet_arm() || !vblk_arm())
			continue; /* news came while arming */
		if (!clock_sleep_once(deadline_ns))
			break;
		uint32_t pending = __atomic_exchange_n(&virtio_irq_pending, 0,
						       __ATOMIC_ACQ_REL);
		vnet_woken(pending);
		vblk_woken(pending);
		operator_woken(pending);
	}
	if (ready_set)
		*ready_set = ready;
	if (now_ns)
		*now_ns = ingot_clock_monotonic();
	return 0;
}

/* The hint is not taken: any device's interrupt ends the sleep. */
int ingot_poll_for(uint64_t deadline_ns, uint64_t wake_set, uint64_t *ready_set,
		   uint64_t *now_ns)
{
	(void)wake_set;
	return ingot_poll(deadline_ns, ready_set, now_ns);
}

int ingot_mem_protect(void *addr, size_t len, enum ingot_prot prot)
{
	uintptr_t a = (uintptr_t)addr;

	if (virtio.sealed)
		return -EPERM;
	if (!boot_protect_ok(a, len, prot))
		return -EINVAL;
	paging_protect(a, len, prot);
	return 0;
}

int ingot_seal(void)
{
	if (virtio.sealed)
		return -EPERM;
	if (virtio.info.ndevices)
		operator_setup();
	trap_seal();
	virtio.sealed = true;
	virtio_enter_user();
	return 0;
}

int ingot_block_attach(uint32_t handle, struct ingot_block_ring *ring)
{
	if (virtio.sealed)
		return -EPERM;
	return vblk_attach(handle, ring);
}

int ingot_net_attach(uint32_t handle, struct ingot_net_ring *tx,
		     struct ingot_net_ring *rx)
{
	if (virtio.sealed)
		return -EPERM;
	return vnet_attach(handle, tx, rx);
}

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
		ready = vnet_service();
		if (ready)
			break;
		if (!vnet_arm())
			continue; /* news came while arming */
		if (!clock_sleep_once(deadline_ns))
			break;
		vnet_woken();
	}
	if (ready_set)
		*ready_set = ready;
	if (now_ns)
		*now_ns = ingot_clock_monotonic();
	return 0;
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
	trap_seal();
	virtio.sealed = true;
	virtio_enter_user();
	return 0;
}

/* Block devices on this target would be virtio-blk, which is not written
 * yet: every block device in the manifest is reported unattached, and
 * attaching one fails as for a missing device. */
int ingot_block_attach(uint32_t handle, struct ingot_block_ring *ring)
{
	(void)handle, (void)ring;
	if (virtio.sealed)
		return -EPERM;
	return -ENODEV;
}

int ingot_net_attach(uint32_t handle, struct ingot_net_ring *tx,
		     struct ingot_net_ring *rx)
{
	if (virtio.sealed)
		return -EPERM;
	return vnet_attach(handle, tx, rx);
}

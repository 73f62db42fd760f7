/*
 * The guest's view of its page tables, built by the monitor (abi_kvm.h).
 * Before the seal the guest may change the protection of single pages,
 * splitting a 2 MiB page with a table from the monitor's spare pool; after
 * the seal the tables are in read-only memory and any write stops the guest.
 * Edits take effect at the latest at the seal, which flushes the TLB.
 */
#include <errno.h>

#include "kvm.h"

#define PTE_P (1ULL << 0)
#define PTE_W (1ULL << 1)
#define PTE_U (1ULL << 2)
#define PTE_A (1ULL << 5)
#define PTE_D (1ULL << 6)
#define PTE_PS (1ULL << 7)
#define PTE_NX (1ULL << 63)
#define PTE_ADDR 0x000ffffffffff000ULL

static uint64_t *table_at(uint64_t phys)
{
	return (uint64_t *)(phys + kvm_boot->offset);
}

/* The entry mapping va: a 4 KiB entry, or a 2 MiB one (*large), or NULL. */
static uint64_t *lookup(uintptr_t va, bool *large)
{
	uint64_t *t = table_at(INGOT_KVM_PT_BASE);
	uint64_t e;

	if (va >> 47)
		return NULL;
	e = t[va >> 39 & 511];
	if (!(e & PTE_P))
		return NULL;
	e = table_at(e & PTE_ADDR)[va >> 30 & 511];
	if (!(e & PTE_P) || (e & PTE_PS))
		return NULL; /* the monitor never maps 1 GiB pages */
	t = table_at(e & PTE_ADDR);
	uint64_t *pde = &t[va >> 21 & 511];
	if (!(*pde & PTE_P))
		return NULL;
	*large = *pde & PTE_PS;
	if (*large)
		return pde;
	return &table_at(*pde & PTE_ADDR)[va >> 12 & 511];
}

bool kvm_page_readable(uintptr_t va)
{
	bool large;
	uint64_t *e = lookup(va, &large);
	return e && (*e & PTE_P);
}

static int split(uint64_t *pde)
{
	static uintptr_t next;

	if (!next)
		next = kvm_boot->pt_pool_start;
	if (next >= kvm_boot->pt_pool_end)
		return -ENOMEM;
	uint64_t *pt = (uint64_t *)next;
	uint64_t base = *pde & PTE_ADDR & ~((2ULL << 20) - 1);
	uint64_t flags = *pde & ~PTE_ADDR & ~PTE_PS;
	for (unsigned i = 0; i < 512; i++)
		pt[i] = (base + i * INGOT_PAGE_SIZE) | flags;
	*pde = (next - kvm_boot->offset) | PTE_P | PTE_W | PTE_U | PTE_A;
	next += INGOT_PAGE_SIZE;
	return 0;
}

int kvm_page_set(uintptr_t va, enum kvm_page_kind kind)
{
	bool large;
	uint64_t *e;

	if (kvm_sealed())
		return -EPERM;
	e = lookup(va, &large);
	if (!e)
		return -EINVAL;
	if (large) {
		int rc = split(e);
		if (rc < 0)
			return rc;
		e = lookup(va, &large);
	}
	uint64_t frame = *e & PTE_ADDR;
	if (!frame) /* an unmapped 4 KiB slot: nothing to protect */
		return -EINVAL;
	switch (kind) {
	case KVM_PAGE_NONE:
		*e = frame; /* not present, frame kept for a later change */
		break;
	case KVM_PAGE_READ:
		*e = frame | PTE_P | PTE_U | PTE_A | PTE_D | PTE_NX;
		break;
	case KVM_PAGE_RW:
		*e = frame | PTE_P | PTE_U | PTE_W | PTE_A | PTE_D | PTE_NX;
		break;
	}
	return 0; /* in effect at the latest at the seal (abi_kvm.h) */
}

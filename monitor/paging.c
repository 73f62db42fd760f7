/*
 * The guest's initial page tables (layout in abi_kvm.h).  Every page gets
 * the permissions of what it holds and nothing is both writable and
 * executable.  Large stretches of plain heap use 2 MiB pages, so even a
 * 4 GiB guest needs a handful of table pages, all in the low region that
 * becomes read-only at the seal.
 */
#include <string.h>

#include "../platform/common/elf64.h"
#include "monitor.h"

#define PAGE 4096UL
#define LARGE (2UL << 20)

#define PTE_P (1ULL << 0)
#define PTE_W (1ULL << 1)
#define PTE_U (1ULL << 2)
#define PTE_A (1ULL << 5)
#define PTE_D (1ULL << 6)
#define PTE_PS (1ULL << 7)
#define PTE_NX (1ULL << 63)

enum kind { NONE, READ, EXEC, WRITE, CPU_READ };

struct builder {
	struct guest *g;
	uint64_t next; /* physical address of the next free table page */
	uint64_t heap_start, heap_end;
};

static uint64_t leaf_flags(enum kind k)
{
	/* Accessed and dirty are preset so the CPU never writes to these
	 * tables once they are read-only. */
	switch (k) {
	case READ:
		return PTE_P | PTE_U | PTE_A | PTE_D | PTE_NX;
	case EXEC:
		return PTE_P | PTE_U | PTE_A | PTE_D;
	case WRITE:
		return PTE_P | PTE_U | PTE_W | PTE_A | PTE_D | PTE_NX;
	case CPU_READ: /* descriptor tables: supervisor only */
		return PTE_P | PTE_A | PTE_D | PTE_NX;
	default:
		return 0;
	}
}

static enum kind page_kind(const struct builder *b, uint64_t pa)
{
	const struct image *img = &b->g->img;
	uint64_t mem = b->g->mem_size;

	if (pa < INGOT_KVM_BOOT_BASE)
		return NONE; /* so that NULL faults */
	if (pa < INGOT_KVM_GDT_BASE)
		return READ; /* boot info */
	if (pa < INGOT_KVM_GDT_BASE + PAGE)
		return CPU_READ; /* GDT, TSS and IDT */
	if (pa < INGOT_KVM_PT_BASE)
		return NONE;
	if (pa < INGOT_KVM_IMAGE_BASE)
		return WRITE; /* page tables, until the seal */
	if (pa < img->end) {
		for (unsigned i = 0; i < img->nseg; i++) {
			const struct image_segment *s = &img->seg[i];
			if (pa >= s->paddr && pa - s->paddr < s->memsz)
				return (s->flags & ELF_PF_X)   ? EXEC
				       : (s->flags & ELF_PF_W) ? WRITE
							       : READ;
		}
		return NONE;
	}
	if (pa < b->heap_end)
		return WRITE;
	/* From the top: boot stack, guard, exception stack, guard. */
	if (pa >= mem - MON_BOOT_STACK_SIZE)
		return WRITE;
	if (pa >= mem - MON_BOOT_STACK_SIZE - PAGE)
		return NONE;
	if (pa >= mem - MON_BOOT_STACK_SIZE - PAGE - MON_IST_STACK_SIZE)
		return WRITE;
	return NONE;
}

static uint64_t *table(struct builder *b, uint64_t pa)
{
	return (uint64_t *)(b->g->mem + pa);
}

static uint64_t alloc_table(struct builder *b)
{
	if (b->next >= INGOT_KVM_IMAGE_BASE)
		mon_fail("guest page tables do not fit below the image");
	uint64_t pa = b->next;
	b->next += PAGE;
	return pa; /* fresh guest memory is already zero */
}

/* The next-level table behind entry idx of table pa, created if absent. */
static uint64_t descend(struct builder *b, uint64_t pa, unsigned idx)
{
	uint64_t *t = table(b, pa);
	if (!(t[idx] & PTE_P))
		t[idx] = alloc_table(b) | PTE_P | PTE_W | PTE_U | PTE_A;
	return t[idx] & 0x000ffffffffff000ULL;
}

/* Maps the 2 MiB chunk at physical pa, with one large page if it is all
 * heap, else with a table of 512 pages. */
static void map_chunk(struct builder *b, uint64_t pml4, uint64_t pa)
{
	uint64_t va = pa + b->g->img.offset;
	uint64_t pdpt = descend(b, pml4, va >> 39 & 511);
	uint64_t pd = descend(b, pdpt, va >> 30 & 511);
	unsigned pdi = va >> 21 & 511;

	if (pa >= b->heap_start && pa + LARGE <= b->heap_end &&
	    pa >= INGOT_KVM_IMAGE_BASE) {
		table(b, pd)[pdi] = pa | leaf_flags(WRITE) | PTE_PS;
		return;
	}
	uint64_t pt = descend(b, pd, pdi);
	uint64_t *pte = table(b, pt);
	for (unsigned i = 0; i < 512; i++) {
		uint64_t p = pa + i * PAGE;
		enum kind k = p < b->g->mem_size ? page_kind(b, p) : NONE;
		pte[i] = k == NONE ? 0 : p | leaf_flags(k);
	}
}

uint64_t paging_build(struct guest *g, uint64_t heap_start, uint64_t heap_end)
{
	struct builder b = {
	    .g = g,
	    .next = INGOT_KVM_PT_BASE,
	    .heap_start = heap_start,
	    .heap_end = heap_end,
	};
	uint64_t pml4 = alloc_table(&b);

	for (uint64_t pa = 0; pa < g->mem_size; pa += LARGE)
		map_chunk(&b, pml4, pa);
	return b.next;
}

/*
 * The guest's page tables (layout and rules in abi_kvm.h).  Only the
 * monitor writes them: they live in a read-only slot the guest cannot see,
 * every page is mapped by the flags of what it holds, and nothing is both
 * writable and executable.  Whole 2 MiB stretches of heap use large pages,
 * split on demand when the guest asks to protect a page in one.
 *
 * A table the guest may have walked (one built before it ran) is never
 * changed: KVM may hold translations derived from it (shadow pages on
 * kvm-pvm) that a write from here would not invalidate.  Protection
 * requests change copies instead, reached from a new root that the seal
 * loads into CR3: KVM has derived nothing from them, and the CR3 change
 * flushes the guest's TLB.  The table area has room to split every large
 * page and to copy every table once.
 */
#include <string.h>

#include "../host/elf64.h"
#include "monitor.h"

#define PAGE  4096UL
#define LARGE (2UL << 20)

#define PTE_P    (1ULL << 0)
#define PTE_W    (1ULL << 1)
#define PTE_U    (1ULL << 2)
#define PTE_A    (1ULL << 5)
#define PTE_D    (1ULL << 6)
#define PTE_PS   (1ULL << 7)
#define PTE_NX   (1ULL << 63)
#define PTE_ADDR 0x000ffffffffff000ULL

enum kind { NONE, READ, EXEC, WRITE, CPU_READ, CPU_EXEC, CPU_WRITE };

static uint64_t leaf_flags(enum kind k)
{
	/* Accessed and dirty are preset so the CPU never writes to the
	 * tables, which are in a read-only slot. */
	const uint64_t p = PTE_P | PTE_A | PTE_D;
	switch (k) {
	case READ:
		return p | PTE_U | PTE_NX;
	case EXEC:
		return p | PTE_U;
	case WRITE:
		return p | PTE_U | PTE_W | PTE_NX;
	case CPU_READ: /* descriptor tables */
		return p | PTE_NX;
	case CPU_EXEC: /* the exception stubs */
		return p;
	case CPU_WRITE: /* the exception stack */
		return p | PTE_W | PTE_NX;
	default:
		return 0;
	}
}

static enum kind page_kind(const struct guest *g, uint64_t pa)
{
	const struct image *img = &g->img;

	if (pa < INGOT_KVM_BOOT_BASE)
		return NONE; /* so that NULL faults */
	if (pa < INGOT_KVM_BOOT_BASE + INGOT_KVM_BOOT_SIZE)
		return READ;
	if (pa == INGOT_KVM_GDT_BASE)
		return CPU_READ;
	if (pa == INGOT_KVM_STUBS_BASE)
		return CPU_EXEC;
	if (pa < INGOT_KVM_IMAGE_BASE)
		return NONE;
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
	if (pa < g->heap_end)
		return WRITE;
	if (pa == g->ist_top - PAGE)
		return CPU_WRITE;
	if (pa < g->stack_start)
		return NONE; /* the guard page below the boot stack */
	if (pa < g->tables_start)
		return WRITE;
	return NONE; /* the tables themselves, never mapped */
}

static uint64_t *table(struct guest *g, uint64_t pa)
{
	return (uint64_t *)(g->mem + pa);
}

static uint64_t alloc_table(struct guest *g)
{
	/* paging_tables_needed() bounds every allocation: running out is a
	 * bug in the monitor, not the guest's doing. */
	if (g->tables_next >= g->tables_end)
		mon_fail("guest page tables: the table area is too small");
	uint64_t pa = g->tables_next;
	g->tables_next += PAGE;
	memset(table(g, pa), 0, PAGE);
	return pa;
}

/* The next-level table behind entry idx of table pa, created if absent. */
static uint64_t descend(struct guest *g, uint64_t pa, unsigned idx)
{
	uint64_t *t = table(g, pa);
	if (!(t[idx] & PTE_P))
		t[idx] = alloc_table(g) | PTE_P | PTE_W | PTE_U | PTE_A;
	return t[idx] & PTE_ADDR;
}

static bool all_heap(const struct guest *g, uint64_t pa)
{
	return pa >= g->heap_start && pa + LARGE <= g->heap_end;
}

/* Spans of the virtual range [offset, offset + mem) at each level. */
static uint64_t spans(const struct guest *g, unsigned shift)
{
	uint64_t va = g->img.offset, end = va + g->mem_size - 1;
	return (end >> shift) - (va >> shift) + 1;
}

uint64_t paging_tables_needed(const struct guest *g)
{
	/* The PML4, the PDPTs and PDs, and a page table for every 2 MiB
	 * chunk (built now or kept for a split); each of them copied. */
	return 2 * (1 + spans(g, 39) + spans(g, 30) + spans(g, 21));
}

/* Maps the 2 MiB chunk at physical pa: one large page if it is all heap,
 * else a table of 512 pages. */
static void map_chunk(struct guest *g, uint64_t pa)
{
	uint64_t va = pa + g->img.offset;
	uint64_t pdpt = descend(g, g->cr3, va >> 39 & 511);
	uint64_t pd = descend(g, pdpt, va >> 30 & 511);
	unsigned pdi = va >> 21 & 511;

	if (all_heap(g, pa)) {
		table(g, pd)[pdi] = pa | leaf_flags(WRITE) | PTE_PS;
		return;
	}
	uint64_t *pte = table(g, descend(g, pd, pdi));
	for (unsigned i = 0; i < 512; i++) {
		uint64_t p = pa + i * PAGE;
		enum kind k = p < g->mem_size ? page_kind(g, p) : NONE;
		pte[i] = k == NONE ? 0 : p | leaf_flags(k);
	}
}

void paging_build(struct guest *g)
{
	g->tables_next = g->tables_start;
	g->cr3 = alloc_table(g);
	for (uint64_t pa = 0; pa < g->mem_size; pa += LARGE)
		map_chunk(g, pa);
	g->tables_built = g->tables_next;
	g->next_cr3 = 0;
}

/* The page directory entry for va in the tree at root; every chunk of
 * guest memory has one. */
static uint64_t *pde_of(struct guest *g, uint64_t root, uint64_t va)
{
	uint64_t e = table(g, root)[va >> 39 & 511];
	e = table(g, e & PTE_ADDR)[va >> 30 & 511];
	return &table(g, e & PTE_ADDR)[va >> 21 & 511];
}

static uint64_t copy_table(struct guest *g, uint64_t pa)
{
	uint64_t c = alloc_table(g);
	memcpy(table(g, c), table(g, pa), PAGE);
	return c;
}

/* In a copied table pa: the table behind entry idx, copied if built. */
static uint64_t copied_child(struct guest *g, uint64_t pa, unsigned idx)
{
	uint64_t *e = &table(g, pa)[idx];
	uint64_t child = *e & PTE_ADDR;
	if (child < g->tables_built) {
		child = copy_table(g, child);
		*e = (*e & ~PTE_ADDR) | child;
	}
	return child;
}

/* The leaf entry for va in the copies loaded at the seal, splitting a
 * large page into 512 small ones. */
static uint64_t *pte_of(struct guest *g, uint64_t va)
{
	if (!g->next_cr3)
		g->next_cr3 = copy_table(g, g->cr3);
	uint64_t pdpt = copied_child(g, g->next_cr3, va >> 39 & 511);
	uint64_t pd = copied_child(g, pdpt, va >> 30 & 511);
	uint64_t *pde = &table(g, pd)[va >> 21 & 511];
	if (*pde & PTE_PS) {
		uint64_t base = *pde & PTE_ADDR;
		uint64_t pt = alloc_table(g);
		for (unsigned i = 0; i < 512; i++)
			table(g, pt)[i] = (base + i * PAGE) | leaf_flags(WRITE);
		*pde = pt | PTE_P | PTE_W | PTE_U | PTE_A;
		return &table(g, pt)[va >> 12 & 511];
	}
	return &table(g, copied_child(g, pd, va >> 21 & 511))[va >> 12 & 511];
}

const char *paging_protect(struct guest *g, uint64_t gva, uint64_t len,
			   uint64_t prot)
{
	enum kind k;

	switch (prot) {
	case INGOT_PROT_NONE:
		k = NONE;
		break;
	case INGOT_PROT_READ:
		k = READ;
		break;
	case INGOT_PROT_RW:
		k = WRITE;
		break;
	default:
		return "a protection other than none, read or read-write";
	}
	if (gva % PAGE || len % PAGE || !len)
		return "a range that is not whole pages";
	uint64_t pa = gva - g->img.offset;
	if (gva < g->img.offset || pa < g->heap_start || pa > g->heap_end ||
	    len > g->heap_end - pa)
		return "a range outside the heap";
	for (uint64_t off = 0; off < len; off += PAGE)
		*pte_of(g, gva + off) =
		    k == NONE ? 0 : (pa + off) | leaf_flags(k);
	return NULL;
}

bool paging_user_readable(struct guest *g, uint64_t va)
{
	if (va < g->img.offset || va - g->img.offset >= g->mem_size)
		return false;
	uint64_t *e = pde_of(g, g->cr3, va);
	if (!(*e & PTE_PS))
		e = &table(g, *e & PTE_ADDR)[va >> 12 & 511];
	return (*e & (PTE_P | PTE_U)) == (PTE_P | PTE_U);
}

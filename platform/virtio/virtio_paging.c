/*
 * The guest's page tables, built by the guest: every page of the RAM it
 * uses mapped once, at physical + offset, with 4 KiB pages, by what it
 * holds: code read-only and executable, everything else never executable
 * (NX), constants read-only, data, stacks, tables and heap writable.  The
 * low MiB (so a NULL pointer faults), the PVH entry and the guard pages
 * below the stacks are not mapped.  CR0.WP makes read-only bind the CPU
 * at CPL 0 too.  At the seal the tables' own pages become read-only.
 */
#include <string.h>

#include "virtio.h"

#define PTE_P    1ULL
#define PTE_W    2ULL
#define PTE_PWT  8ULL
#define PTE_PCD  16ULL
#define PTE_NX   (1ULL << 63)
#define PTE_ADDR 0x000ffffffffff000ULL
#define PAGE     4096ULL

#define BOOT_STACK_SIZE (128 * 1024)
#define IST_STACK_SIZE  (16 * 1024)
#define EXTRA_TABLES    4 /* device pages outside RAM */

static uint64_t pml4_phys;
static uint64_t tables_start, tables_next, tables_end; /* physical */

static uint64_t *table(uint64_t phys)
{
	return phys_to_virt(phys);
}

static uint64_t table_alloc(void)
{
	if (tables_next == tables_end) {
		static const char msg[] = "page tables: reserve exhausted";
		ingot_abort(msg, sizeof msg - 1);
	}
	uint64_t p = tables_next;
	tables_next += PAGE;
	return p;
}

/* The leaf entry for va; with create, intermediate tables are added. */
static uint64_t *pte_of(uintptr_t va, bool create)
{
	uint64_t phys = pml4_phys;
	for (int shift = 39; shift > 12; shift -= 9) {
		uint64_t *e = &table(phys)[(va >> shift) & 511];
		if (!(*e & PTE_P)) {
			if (!create)
				return NULL;
			*e = table_alloc() | PTE_P | PTE_W;
		}
		phys = *e & PTE_ADDR;
	}
	return &table(phys)[(va >> 12) & 511];
}

static void map_range(uint64_t start, uint64_t end, uint64_t flags)
{
	for (uint64_t p = start; p < end; p += PAGE)
		*pte_of(p + virtio.offset, true) = p | flags;
}

static uint64_t phys_of(const void *sym)
{
	return (uint64_t)(uintptr_t)sym - virtio.offset;
}

uint64_t paging_init(uint64_t image_end_phys, uint64_t ram_end,
		     uintptr_t *boot_stack_top, uintptr_t *ist_top)
{
	uint64_t stack = image_end_phys + PAGE; /* a guard page below */
	uint64_t ist = stack + BOOT_STACK_SIZE + PAGE;
	uint64_t pt_count = (ram_end + (2 << 20) - 1) >> 21;
	uint64_t count = pt_count + (ram_end >> 30) + 2 + 3 + 1 + EXTRA_TABLES;

	tables_start = tables_next = ist + IST_STACK_SIZE;
	tables_end = tables_start + count * PAGE;
	if (tables_end + PAGE > ram_end || tables_end > (1ULL << 30)) {
		static const char msg[] = "too little memory for the image";
		ingot_abort(msg, sizeof msg - 1);
	}
	/* Written through the entry's tables, which map the first GiB. */
	memset(table(tables_start), 0, count * PAGE);
	pml4_phys = table_alloc();

	map_range(VIRTIO_PVH_IMAGE_BASE, phys_of(__rodata_start), PTE_P);
	map_range(phys_of(__rodata_start), phys_of(__data_start),
		  PTE_P | PTE_NX);
	map_range(phys_of(__data_start), image_end_phys,
		  PTE_P | PTE_W | PTE_NX);
	map_range(stack, stack + BOOT_STACK_SIZE, PTE_P | PTE_W | PTE_NX);
	map_range(ist, ist + IST_STACK_SIZE, PTE_P | PTE_W | PTE_NX);
	map_range(tables_start, ram_end, PTE_P | PTE_W | PTE_NX);

	__asm__ volatile("mov %0, %%cr3" : : "r"(pml4_phys) : "memory");
	*boot_stack_top = (uintptr_t)phys_to_virt(stack + BOOT_STACK_SIZE);
	*ist_top = (uintptr_t)phys_to_virt(ist + IST_STACK_SIZE);
	virtio.stack_lo = (uintptr_t)phys_to_virt(stack);
	virtio.stack_hi = *boot_stack_top;
	return tables_end;
}

void *paging_map_device(uint64_t phys)
{
	uintptr_t va = phys + virtio.offset;
	*pte_of(va, true) = phys | PTE_P | PTE_W | PTE_PCD | PTE_PWT | PTE_NX;
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
	return (void *)va;
}

void paging_protect(uintptr_t va, size_t len, enum ingot_prot prot)
{
	uint64_t flags = prot == INGOT_PROT_NONE   ? 0
			 : prot == INGOT_PROT_READ ? PTE_P | PTE_NX
						   : PTE_P | PTE_W | PTE_NX;
	for (uintptr_t a = va; a < va + len; a += PAGE) {
		uint64_t *e = pte_of(a, false);
		/* Heap pages are all mapped (paging_init). */
		*e = (a - virtio.offset) | flags;
		__asm__ volatile("invlpg (%0)" : : "r"(a) : "memory");
	}
}

bool paging_mapped(uintptr_t va, size_t len)
{
	for (uintptr_t a = va & ~(PAGE - 1); a < va + len; a += PAGE) {
		uint64_t *e = pte_of(a, false);
		if (!e || !(*e & PTE_P))
			return false;
	}
	return true;
}

static void make_read_only(uintptr_t va)
{
	uint64_t *e = pte_of(va, false);
	if (e)
		*e &= ~PTE_W;
}

/*
 * The tables' own pages, and the descriptor tables', become read-only.
 * Some of those entries live in the pages being changed, so CR0.WP is off
 * for the loop; the CR3 reload then drops every cached translation.
 */
void paging_seal(const void *gdt_page, const void *idt_page)
{
	uint64_t cr0;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0 & ~(1ULL << 16)));
	for (uint64_t p = tables_start; p < tables_end; p += PAGE)
		make_read_only((uintptr_t)phys_to_virt(p));
	make_read_only((uintptr_t)gdt_page);
	make_read_only((uintptr_t)idt_page);
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0 | (1ULL << 16)));
	__asm__ volatile("mov %0, %%cr3" : : "r"(pml4_phys) : "memory");
}

/*
 * The guest's page tables, built by the guest: every page of the RAM it
 * uses mapped once, at physical + offset, by what it holds: code read-only
 * and executable, everything else never executable (NX), constants
 * read-only, data, stacks, tables and heap writable.  The low MiB (so a
 * NULL pointer faults), the PVH entry and the guard pages below the stacks
 * are not mapped.  CR0.WP makes read-only bind the CPU at CPL 0 too.  At
 * the seal the tables' own pages become read-only.
 *
 * The heap is mapped with 2 MiB pages where it can be, split into 4 KiB
 * pages only where a protection asks: on nested KVM here every table
 * entry written costs tens of microseconds, so 4 KiB pages throughout
 * took seconds per GiB.  The table area reserves a page table for every
 * 2 MiB heap page, so a split never fails; reserved pages are not touched
 * until used.
 *
 * The first tables taken come from the image's .bss, which the loader
 * hands over zeroed: zeroing a page here costs about 0.4 ms of start of
 * day (kvm-pvm emulates each rep stos iteration at CPL 0).  Only a large
 * image, a split or many device pages reach the area after the stacks.
 */
#include <string.h>

#include "virtio.h"

#define PTE_P    1ULL
#define PTE_W    2ULL
#define PTE_U    4ULL
#define PTE_PWT  8ULL
#define PTE_PCD  16ULL
#define PTE_PS   0x80ULL
#define PTE_NX   (1ULL << 63)
#define PTE_ADDR 0x000ffffffffff000ULL
#define PAGE     4096ULL
#define USER_RW  (PTE_P | PTE_W | PTE_U | PTE_NX)
#define BIG      (2ULL << 20)

#define MSR_MTRR_DEF_TYPE 0x2ff
#define MTRR_ENABLE       (1ULL << 11)
#define MTRR_TYPE_WB      6ULL

#define BOOT_STACK_SIZE (128 * 1024)
#define IST_STACK_SIZE  (16 * 1024)
#define EXTRA_TABLES    12 /* device pages outside RAM (and PCI BARs) */
/* The PML4, a PDPT, two directories (the image's GiB, the devices'),
 * tables for the small pages of the image and stacks and for devices. */
#define BSS_TABLES 8

static uint64_t pml4_phys;
static uint64_t tables_start, tables_next, tables_end; /* physical */
static uint64_t bss_tables[BSS_TABLES][512] __attribute__((aligned(4096)));
static unsigned bss_tables_used;

static uint64_t *table(uint64_t phys)
{
	return phys_to_virt(phys);
}

static uint64_t table_alloc(void)
{
	if (bss_tables_used < BSS_TABLES)
		return virt_to_phys(bss_tables[bss_tables_used++]);
	if (tables_next == tables_end) {
		static const char msg[] = "page tables: reserve exhausted";
		ingot_abort(msg, sizeof msg - 1);
	}
	uint64_t p = tables_next;
	tables_next += PAGE;
	memset(table(p), 0, PAGE);
	return p;
}

/*
 * The entry that maps va at level stop_shift (12: a 4 KiB page, 21: a
 * 2 MiB one); with create, missing tables are added.  A 2 MiB page met on
 * the way is the answer (its entry has PTE_PS).
 */
static uint64_t *entry_of(uintptr_t va, int stop_shift, bool create)
{
	uint64_t phys = pml4_phys;
	for (int shift = 39;; shift -= 9) {
		uint64_t *e = &table(phys)[(va >> shift) & 511];
		if (shift == stop_shift || (*e & PTE_PS))
			return e;
		if (!(*e & PTE_P)) {
			if (!create)
				return NULL;
			*e = table_alloc() | PTE_P | PTE_W | PTE_U;
		}
		phys = *e & PTE_ADDR;
	}
}

static uint64_t *pte_of(uintptr_t va, bool create)
{
	return entry_of(va, 12, create);
}

/* The page table entry of va, through the table of the last 2 MiB asked
 * about: start of day maps several ranges in one table, and a walk is
 * some 50 instructions.  A table, once there, stays (a split adds one
 * where a 2 MiB page was, never replaces one). */
static uint64_t *pte_in_table_of(uintptr_t va)
{
	static uintptr_t last = 1; /* never va >> 21: the offset is 4 GiB up */
	static uint64_t *pt;
	if (va >> 21 != last) {
		pt = pte_of(va & ~(BIG - 1), true);
		last = va >> 21;
	}
	return pt + (va >> 12 & 511);
}

/* n entries: v, v + step, ...; unrolled by hand (gcc rolls a loop back),
 * since each instruction at CPL 0 is emulated on kvm-pvm. */
static void fill_entries(uint64_t *e, uint64_t v, uint64_t step, uint64_t n)
{
	uint64_t *end = e + n;
	for (; end - e >= 4; e += 4) {
		e[0] = v;
		v += step;
		e[1] = v;
		v += step;
		e[2] = v;
		v += step;
		e[3] = v;
		v += step;
	}
	for (; e < end; e++, v += step)
		*e = v;
}

/*
 * With large, 2 MiB pages where both ends allow; small ones elsewhere.
 * One walk per table, its entries then filled in a row (the offset is
 * 1 GiB-aligned).
 */
static void map_range(uint64_t start, uint64_t end, uint64_t flags, bool large)
{
	for (uint64_t p = start; p < end;) {
		uint64_t n;
		if (large && p % BIG == 0 && end - p >= BIG) {
			n = ((1ULL << 30) - p % (1ULL << 30)) / BIG;
			if (n > (end - p) / BIG)
				n = (end - p) / BIG;
			fill_entries(entry_of(p + virtio.offset, 21, true),
				     p | flags | PTE_PS, BIG, n);
			p += n * BIG;
		} else {
			n = (BIG - p % BIG) / PAGE;
			if (n > (end - p + PAGE - 1) / PAGE)
				n = (end - p + PAGE - 1) / PAGE;
			fill_entries(pte_in_table_of(p + virtio.offset),
				     p | flags, PAGE, n);
			p += n * PAGE;
		}
	}
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
	/* A page table per 2 MiB of RAM (for the small pages, then for
	 * splitting large ones), page directories, two PDPTs, the PML4. */
	uint64_t count = ((ram_end + BIG - 1) >> 21) + (ram_end >> 30) + 2 + 3 +
			 1 + EXTRA_TABLES;

	tables_start = tables_next = ist + IST_STACK_SIZE;
	tables_end = tables_start + count * PAGE;
	/* Written through the entry's tables, which map the first GiB. */
	if (tables_end + PAGE > ram_end || tables_end > (1ULL << 30)) {
		static const char msg[] = "too little memory for the image";
		ingot_abort(msg, sizeof msg - 1);
	}
	pml4_phys = table_alloc();

	/* What the guest runs on after the seal, at CPL 3, is user pages;
	 * the exception stack and the tables are the CPU's alone. */
	map_range(VIRTIO_PVH_IMAGE_BASE, phys_of(__rodata_start), PTE_P | PTE_U,
		  false);
	map_range(phys_of(__rodata_start), phys_of(__data_start),
		  PTE_P | PTE_U | PTE_NX, false);
	/* The data but for the tables in it, which are the CPU's alone. */
	uint64_t bss_tables_phys = phys_of(bss_tables);
	map_range(phys_of(__data_start), bss_tables_phys, USER_RW, false);
	map_range(bss_tables_phys, bss_tables_phys + sizeof bss_tables,
		  PTE_P | PTE_W | PTE_NX, false);
	map_range(bss_tables_phys + sizeof bss_tables, image_end_phys, USER_RW,
		  false);
	map_range(stack, stack + BOOT_STACK_SIZE, USER_RW, false);
	map_range(ist, ist + IST_STACK_SIZE, PTE_P | PTE_W | PTE_NX, false);
	/* The tables in small pages, for the seal to make them read-only
	 * one by one; the heap in large ones. */
	map_range(tables_start, tables_end, PTE_P | PTE_W | PTE_NX, false);
	map_range(tables_end, ram_end, USER_RW, true);

	/* QEMU microvm's firmware leaves the MTRRs off, which makes all of
	 * memory uncached wherever the hypervisor honours them: RAM is
	 * write-back; device pages stay uncached by their page attributes
	 * (paging_map_device). */
	if ((virtio.cpuid1[3] & (1u << 12)) &&
	    !(rdmsr(MSR_MTRR_DEF_TYPE) & MTRR_ENABLE))
		wrmsr(MSR_MTRR_DEF_TYPE, MTRR_ENABLE | MTRR_TYPE_WB);
	__asm__ volatile("mov %0, %%cr3" : : "r"(pml4_phys) : "memory");
	*boot_stack_top = (uintptr_t)phys_to_virt(stack + BOOT_STACK_SIZE);
	*ist_top = (uintptr_t)phys_to_virt(ist + IST_STACK_SIZE);
	return tables_end;
}

void *paging_map_device(uint64_t phys, bool user)
{
	uintptr_t va = phys + virtio.offset;
	*pte_of(va, true) = phys | PTE_P | PTE_W | PTE_PCD | PTE_PWT | PTE_NX |
			    (user ? PTE_U : 0);
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
	return (void *)va;
}

/* Replaces the 2 MiB page holding va by 512 small ones, alike. */
static void split(uintptr_t va)
{
	uint64_t *pde = entry_of(va, 21, false);
	if (!pde || !(*pde & PTE_PS))
		return;
	uint64_t pt = table_alloc(), big = *pde;
	uint64_t *e = table(pt);
	for (unsigned i = 0; i < 512; i++)
		e[i] = (big & ~PTE_PS) + i * PAGE;
	*pde = pt | PTE_P | PTE_W | PTE_U;
	__asm__ volatile("mov %%cr3, %%rax\n\tmov %%rax, %%cr3"
			 :
			 :
			 : "rax", "memory");
}

void paging_protect(uintptr_t va, size_t len, enum ingot_prot prot)
{
	uint64_t flags = prot == INGOT_PROT_NONE   ? 0
			 : prot == INGOT_PROT_READ ? PTE_P | PTE_U | PTE_NX
						   : USER_RW;
	for (uintptr_t a = va; a < va + len; a += PAGE) {
		split(a);
		uint64_t *e = pte_of(a, false);
		/* Heap pages are all mapped (paging_init), now small. */
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
	return true; /* a large page's entry is its own leaf */
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
void paging_seal(const void *desc_page)
{
	uint64_t cr0;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0 & ~(1ULL << 16)));
	for (unsigned i = 0; i < bss_tables_used; i++)
		make_read_only((uintptr_t)bss_tables[i]);
	for (uint64_t p = tables_start; p < tables_next; p += PAGE)
		make_read_only((uintptr_t)phys_to_virt(p));
	make_read_only((uintptr_t)desc_page);
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0 | (1ULL << 16)));
	__asm__ volatile("mov %0, %%cr3" : : "r"(pml4_phys) : "memory");
}

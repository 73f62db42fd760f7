/*
 * A hostile image: each variant (argv[1]) tries one way around the seal's
 * promises on kvm (abi_kvm.h, "Threat model"), from a start-of-day hook
 * (before the seal) or from ingot_main (after it).  The monitor must stop
 * every one with INGOT_EXIT_STOPPED and say what it refused; reaching the
 * end of a variant prints "attack succeeded" and exits 1.
 */
#include <ingot/abi_kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

extern char __ingot_offset[]; /* from the linker script */

#define VA(phys) ((uintptr_t)__ingot_offset + (phys))

static void hypercall(enum ingot_kvm_hc nr, const volatile void *arg)
{
	uint32_t phys = (uint32_t)((uintptr_t)arg - (uintptr_t)__ingot_offset);
	__asm__ volatile("outl %0, %1"
			 :
			 : "a"(phys), "d"((uint16_t)(INGOT_KVM_HC_BASE + nr))
			 : "memory");
}

static void protect(uintptr_t addr, uint64_t len, uint64_t prot)
{
	static struct ingot_kvm_protect req;
	static struct ingot_kvm_protect_batch b = {.count = 1};
	req = (struct ingot_kvm_protect){addr, len, prot};
	b.ranges = (uintptr_t)&req;
	hypercall(INGOT_KVM_HC_PROTECT, &b);
}

/* The first page of the monitor's page tables, just above the boot stack
 * (the monitor's layout today, not the ABI's promise). */
static uintptr_t tables(void)
{
	return ((const struct ingot_kvm_boot *)VA(INGOT_KVM_BOOT_BASE))
	    ->stack_top;
}

static uintptr_t heap_page(void)
{
	return ingot_boot_info()->heap_start;
}

static const char *variant(void)
{
	const struct ingot_boot_info *bi = ingot_boot_info();
	return bi->argc > 1 ? bi->argv[1] : "";
}

static bool is(const char *name)
{
	return strcmp(variant(), name) == 0;
}

static int before_seal(void)
{
	if (is("pt-write")) /* hang a table of its own into the tree */
		*(volatile uint64_t *)tables() = heap_page() | 7;
	else if (is("idt-write")) /* a DPL 3 gate to its own code */
		*(volatile uint64_t *)VA(INGOT_KVM_GDT_BASE + 0x800 + 3 * 16) =
		    0;
	else if (is("gdt-write"))
		*(volatile uint64_t *)VA(INGOT_KVM_GDT_BASE + 8) = 0;
	else if (is("stub-write"))
		*(volatile uint8_t *)VA(INGOT_KVM_STUBS_BASE) = 0x90;
	else if (is("boot-write"))
		*(volatile uint64_t *)VA(INGOT_KVM_BOOT_BASE) = 0;
	else if (is("protect-wx")) /* writable and executable heap */
		protect(heap_page(), 4096, 7);
	else if (is("protect-code")) /* a writable alias of code */
		protect((uintptr_t)before_seal & ~4095UL, 4096, INGOT_PROT_RW);
	else if (is("protect-tables"))
		protect(tables(), 4096, INGOT_PROT_RW);
	else if (is("protect-descriptors")) /* the huge-page variant */
		protect(VA(0), 2UL << 20, INGOT_PROT_RW);
	else if (is("protect-wrap"))
		protect(heap_page(), -4096UL, INGOT_PROT_RW);
	else if (is("results-in-tables")) /* have the monitor write them */
		hypercall(INGOT_KVM_HC_POLL, (const void *)tables());
	else
		return 0;
	printf("attack succeeded: %s\n", variant());
	ingot_exit(1);
}
INGOT_INIT(before_seal);

int ingot_main(int argc, char **argv)
{
	if (is("int3"))
		__asm__ volatile("int3");
	else if (is("int80"))
		__asm__ volatile("int $0x80");
	else if (is("lidt")) {
		static const struct {
			uint16_t limit;
			uint64_t base;
		} __attribute__((packed)) idtr = {4095, 0};
		__asm__ volatile("lidt %0" : : "m"(idtr));
	} else if (is("mov-cr3"))
		__asm__ volatile("mov %0, %%cr3" : : "r"(0UL));
	else if (is("sealed-pt-write"))
		*(volatile uint64_t *)tables() = 0;
	else if (is("protect-after-seal"))
		protect(heap_page(), 4096, INGOT_PROT_NONE);
	else {
		printf("unknown variant '%s'\n", variant());
		return 2;
	}
	printf("attack succeeded: %s\n", variant());
	return 1;
}

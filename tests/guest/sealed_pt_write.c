/*
 * Edits a page-table entry after the seal.  On kvm the tables are then in
 * read-only memory and the monitor stops the guest ("wrote to its sealed
 * page tables"); elsewhere the address is not mapped and the guest faults.
 */
#include <ingot/abi_kvm.h>
#include <stdint.h>
#include <stdio.h>

extern char __ingot_offset[]; /* from the linker script */

int ingot_main(int argc, char **argv)
{
	volatile uint64_t *pml4 =
	    (volatile uint64_t *)((uintptr_t)__ingot_offset + INGOT_KVM_PT_BASE);

	printf("editing a page-table entry after the seal\n");
	pml4[0] |= 1ULL << 1;
	printf("the page tables were not sealed\n");
	return 1;
}

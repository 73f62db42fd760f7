/*
 * Makes a console hypercall whose buffer lies outside guest memory: the
 * monitor must stop the guest, and itself exit cleanly, without touching
 * memory beyond the guest's.  (Outside kvm the `out` instruction faults.)
 */
#include <ingot/abi_kvm.h>
#include <stdint.h>
#include <stdio.h>

extern char __ingot_offset[];

int ingot_main(int argc, char **argv)
{
	static struct ingot_kvm_console c;
	uintptr_t offset = (uintptr_t)__ingot_offset;

	c.buf = offset + (64ULL << 30); /* 64 GiB in: beyond any --mem */
	c.len = 4096;
	printf("making a hypercall with a bad buffer\n");
	__asm__ volatile(
	    "outl %0, %1"
	    :
	    : "a"((uint32_t)((uintptr_t)&c - offset)),
	      "d"((uint16_t)(INGOT_KVM_HC_BASE + INGOT_KVM_HC_CONSOLE))
	    : "memory");
	printf("the monitor accepted a bad buffer\n");
	return 1;
}

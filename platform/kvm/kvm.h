/* platform/kvm internals. */
#ifndef PLATFORM_KVM_H
#define PLATFORM_KVM_H

#include <ingot/abi_kvm.h>
#include <stdbool.h>
#include <stdint.h>

extern const struct ingot_kvm_boot *kvm_boot;

/* One VM exit: the monitor serves call nr with the struct at arg. */
static inline void kvm_hypercall(enum ingot_kvm_hc nr, volatile void *arg)
{
	uint32_t phys = (uint32_t)((uintptr_t)arg - kvm_boot->offset);
	__asm__ volatile("outl %0, %1"
			 :
			 : "a"(phys), "d"((uint16_t)(INGOT_KVM_HC_BASE + nr))
			 : "memory");
}

/* kvm_clock.c */
void kvm_clock_init(void);
uint64_t kvm_clock_observe(uint64_t ns);

#endif

/*
 * Time from the TSC, which the monitor calibrated (abi_kvm.h).  Reading it
 * needs no exit on hardware KVM; on nested KVM rdtsc traps, which is why
 * the scheduler reads the clock once per turn.
 */
#include "kvm.h"

static uint64_t mult;    /* ns per tick, as a 32.32 fixed-point number */
static uint64_t last_ns; /* so that time never goes backwards */

void kvm_clock_init(void)
{
	mult = (1000000000ULL << 32) / kvm_boot->tsc_hz;
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* Mixes in a time the monitor reported, keeping the clock monotonic. */
uint64_t kvm_clock_observe(uint64_t ns)
{
	if (ns > last_ns)
		last_ns = ns;
	return last_ns;
}

uint64_t ingot_clock_monotonic(void)
{
	uint64_t ticks = rdtsc() - kvm_boot->tsc_at_boot;
	return kvm_clock_observe(
	    (uint64_t)(((unsigned __int128)ticks * mult) >> 32));
}

uint64_t ingot_clock_wall(void)
{
	return kvm_boot->wall_at_boot_ns + ingot_clock_monotonic();
}

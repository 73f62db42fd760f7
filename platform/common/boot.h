/*
 * Start of day common to every guest platform: after the platform has set
 * up memory, exceptions and its clock, boot_run() runs the libraries'
 * INGOT_INIT hooks, seals, and calls the application.
 */
#ifndef PLATFORM_BOOT_H
#define PLATFORM_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The stack-protector canary from the boot's random seed.  Its low byte is
 * zero so that an overflow by a string copy cannot reproduce it. */
static inline uint64_t boot_canary(uint64_t seed)
{
	uint64_t z = seed + 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31)) & ~0xffULL;
}

_Noreturn void boot_run(int argc, char **argv);

/* Whether ingot_mem_protect(addr, len, prot) asks for something abi.h
 * allows: whole pages inside the heap, no access, read or read-write. */
bool boot_protect_ok(uintptr_t addr, size_t len, int prot);

#endif

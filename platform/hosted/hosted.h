/* platform/hosted internals. */
#ifndef PLATFORM_HOSTED_H
#define PLATFORM_HOSTED_H

#include <ingot/abi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../host/elfsym.h"
#include "hosted_syscall.h"

struct hosted {
	struct ingot_boot_info info;
	uint64_t mono_at_boot;
	uintptr_t stack_top; /* the process stack, for backtraces */
	uintptr_t stack_end; /* ... and its arguments and environment above */
	struct elfsym syms;  /* of /proc/self/exe, mapped before the seal */
	bool sealed;
};

extern struct hosted hosted;

/* The BPF allowlist generated at build time (tools/seccomp_gen.c). */
extern const struct sock_filter hosted_seccomp_filter[];
extern const unsigned short hosted_seccomp_len;

/* hosted_calls.c */
uint64_t hosted_clock(int clock);

/* hosted_mem.c: what guest memory is in this process.  A host pointer to
 * [va, va + len) if it is all guest memory (writable: all writable guest
 * memory), else NULL. */
void *hosted_guest_ptr(uint64_t va, uint64_t len, bool writable);
/* Whether [addr, addr + 16) may be read without faulting (backtraces). */
bool hosted_readable(uintptr_t addr);

/* hosted_signal.c: reports faults and forbidden system calls. */
void hosted_signals_init(void);

#endif

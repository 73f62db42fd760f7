/*
 * The text of a report of a guest's CPU exception, the same on every
 * target (ingot-kvm links it with glibc, a hosted image with ingot's libc).
 */
#ifndef HOST_FAULT_H
#define HOST_FAULT_H

#include <ingot/abi_kvm.h>
#include <stddef.h>
#include <stdint.h>

#include "elfsym.h"

/* "page fault", "general protection fault", ... */
const char *fault_vector_name(uint64_t vector);

/*
 * Writes the report, one line per call of out(ctx, line) (no newline):
 * what happened, where (with symbols when syms is non-NULL), the registers
 * and the backtrace.  prefix starts every line ("ingot-kvm: ").  Symbol
 * names are the image's: only their printable ASCII reaches the lines.
 */
void fault_report(const struct ingot_fault *f, const struct elfsym *syms,
		  const char *prefix, void (*out)(void *ctx, const char *line),
		  void *ctx);

#endif

/*
 * Reporting a guest's CPU exception: symbol lookup in the image's ELF symbol
 * table and the report's text.  Pure functions over caller-owned memory,
 * shared by the monitor (host libc) and the hosted platform (ingot libc).
 */
#ifndef PLATFORM_FAULT_H
#define PLATFORM_FAULT_H

#include <ingot/abi_kvm.h>
#include <stddef.h>
#include <stdint.h>

/* An image's function symbols, pointing into the caller's copy of the file. */
struct elfsym {
	const unsigned char *syms; /* Elf64_Sym array */
	size_t nsyms;
	const char *strtab;
	size_t strtab_size;
};

/* Finds .symtab in an ELF64 image of len bytes.  Returns 0, or -1 if the
 * file is malformed; an image without symbols yields an empty table. */
int elfsym_init(struct elfsym *s, const void *elf, size_t len);

/* The function containing addr and addr's offset in it, or NULL. */
const char *elfsym_lookup(const struct elfsym *s, uint64_t addr,
			  uint64_t *offset);

/* "page fault", "general protection fault", ... */
const char *fault_vector_name(uint64_t vector);

/*
 * Writes the report, one line per call of out(ctx, line) (no newline):
 * what happened, where (with symbols when syms is non-NULL), the registers
 * and the backtrace.  prefix starts every line ("ingot-kvm: ").
 */
void fault_report(const struct ingot_fault *f, const struct elfsym *syms,
		  const char *prefix, void (*out)(void *ctx, const char *line),
		  void *ctx);

#endif

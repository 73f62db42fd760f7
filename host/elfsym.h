/*
 * Symbol lookup in an image's ELF symbol table, for reports: a pure
 * function over the caller's copy of the file, bounds-checked against its
 * length (the monitor runs it on files it did not build).  Names come from
 * the image: print them only through something that keeps them printable
 * (msg.h, fault_report).
 */
#ifndef HOST_ELFSYM_H
#define HOST_ELFSYM_H

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

#endif

/*
 * Symbol lookup in an ELF64 image's .symtab, bounds-checked against the
 * file's length: the monitor runs it on files it did not build.
 */
#include <string.h>

#include "elf64.h"
#include "elfsym.h"

int elfsym_init(struct elfsym *s, const void *elf, size_t len)
{
	const unsigned char *buf = elf;
	const struct elf64_ehdr *eh = elf;

	memset(s, 0, sizeof *s);
	if (len < sizeof *eh || memcmp(eh->e_ident, ELF_MAGIC, 4) != 0 ||
	    eh->e_ident[ELF_EI_CLASS] != ELF_CLASS64)
		return -1;
	if (eh->e_shnum == 0)
		return 0;
	if (eh->e_shentsize != sizeof(struct elf64_shdr) || eh->e_shoff > len ||
	    (len - eh->e_shoff) / sizeof(struct elf64_shdr) < eh->e_shnum)
		return -1;
	const struct elf64_shdr *sh =
	    (const struct elf64_shdr *)(buf + eh->e_shoff);
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != ELF_SHT_SYMTAB)
			continue;
		if (sh[i].sh_link >= eh->e_shnum)
			return -1;
		const struct elf64_shdr *st = &sh[sh[i].sh_link];
		if (sh[i].sh_offset > len ||
		    sh[i].sh_size > len - sh[i].sh_offset ||
		    st->sh_offset > len || st->sh_size > len - st->sh_offset ||
		    sh[i].sh_offset % 8 != 0)
			return -1;
		s->syms = buf + sh[i].sh_offset;
		s->nsyms = sh[i].sh_size / sizeof(struct elf64_sym);
		s->strtab = (const char *)buf + st->sh_offset;
		s->strtab_size = st->sh_size;
		return 0;
	}
	return 0;
}

const char *elfsym_lookup(const struct elfsym *s, uint64_t addr,
			  uint64_t *offset)
{
	const struct elf64_sym *best = NULL;

	if (!s)
		return NULL;
	for (size_t i = 0; i < s->nsyms; i++) {
		const struct elf64_sym *sym =
		    (const struct elf64_sym *)s->syms + i;
		if (ELF_ST_TYPE(sym->st_info) != ELF_STT_FUNC ||
		    sym->st_name >= s->strtab_size || addr < sym->st_value)
			continue;
		/* Inside a sized symbol, or the nearest one below. */
		if (sym->st_size && addr - sym->st_value >= sym->st_size)
			continue;
		if (!best || sym->st_value > best->st_value)
			best = sym;
	}
	if (!best)
		return NULL;
	const char *name = s->strtab + best->st_name;
	if (!memchr(name, '\0', s->strtab_size - best->st_name))
		return NULL;
	*offset = addr - best->st_value;
	return name;
}

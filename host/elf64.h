/*
 * The ELF64 structures ingot reads (images and their symbols).  Written out
 * here because host/ also builds into freestanding hosted images, which
 * cannot use the build host's <elf.h>; field names follow the ELF
 * specification.
 */
#ifndef HOST_ELF64_H
#define HOST_ELF64_H

#include <stdint.h>

#define ELF_MAGIC     "\177ELF"
#define ELF_EI_CLASS  4
#define ELF_EI_DATA   5
#define ELF_CLASS64   2
#define ELF_DATA2LSB  1
#define ELF_ET_EXEC   2
#define ELF_EM_X86_64 62

#define ELF_PT_LOAD 1
#define ELF_PT_NOTE 4
#define ELF_PF_X    1
#define ELF_PF_W    2
#define ELF_PF_R    4

#define ELF_SHT_SYMTAB    2
#define ELF_STT_FUNC      2
#define ELF_ST_TYPE(info) ((info)&0xf)

struct elf64_ehdr {
	unsigned char e_ident[16];
	uint16_t e_type, e_machine;
	uint32_t e_version;
	uint64_t e_entry, e_phoff, e_shoff;
	uint32_t e_flags;
	uint16_t e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum,
	    e_shstrndx;
};

struct elf64_phdr {
	uint32_t p_type, p_flags;
	uint64_t p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
};

struct elf64_shdr {
	uint32_t sh_name, sh_type;
	uint64_t sh_flags, sh_addr, sh_offset, sh_size;
	uint32_t sh_link, sh_info;
	uint64_t sh_addralign, sh_entsize;
};

struct elf64_sym {
	uint32_t st_name;
	unsigned char st_info, st_other;
	uint16_t st_shndx;
	uint64_t st_value, st_size;
};

struct elf64_nhdr {
	uint32_t n_namesz, n_descsz, n_type;
};

#endif

/*
 * Reading and validating an ingot kvm image (the rules are in abi_kvm.h).
 * The file is untrusted: every offset and size is checked before use.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../host/elf64.h"
#include "monitor.h"

#define IMAGE_FILE_MAX (256UL << 20)
#define PAGE           4096UL

static _Noreturn void bad_image(const struct image *img, const char *why)
{
	mon_fail("%s: not an ingot kvm image: %s", img->path, why);
}

static bool in_file(const struct image *img, uint64_t off, uint64_t len)
{
	return off <= img->size && len <= img->size - off;
}

static void read_file(struct image *img)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	int fd = open(img->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;

	if (fd < 0)
		mon_fail("%s: cannot open: %m", img->path);
	if (fstat(fd, &st) < 0)
		mon_fail("%s: cannot stat: %m", img->path);
	if (!S_ISREG(st.st_mode))
		mon_fail("%s: not a regular file", img->path);
	if ((uint64_t)st.st_size > IMAGE_FILE_MAX)
		bad_image(img, "larger than 256 MiB");
	img->size = st.st_size;
	img->file = malloc(img->size ? img->size : 1);
	if (!img->file)
		mon_fail("out of memory reading %s", img->path);
	for (size_t done = 0; done < img->size;) {
		ssize_t n = read(fd, img->file + done, img->size - done);
		if (n <= 0)
			mon_fail("%s: cannot read: %m", img->path);
		done += n;
	}
	close(fd);
}

/* The ingot ABI note, which says this is an image for this monitor. */
static void check_note(struct image *img, const struct elf64_phdr *ph)
{
	uint64_t off = ph->p_offset, end;
	bool abi_seen = false;

	if (!in_file(img, ph->p_offset, ph->p_filesz))
		bad_image(img, "note outside the file");
	end = ph->p_offset + ph->p_filesz;
	while (end - off >= sizeof(struct elf64_nhdr)) {
		struct elf64_nhdr nh; /* copied: the file need not align it */
		memcpy(&nh, img->file + off, sizeof nh);
		uint64_t name = off + sizeof nh;
		uint64_t desc = name + ((nh.n_namesz + 3ULL) & ~3ULL);
		uint64_t next = desc + ((nh.n_descsz + 3ULL) & ~3ULL);
		if (next > end)
			bad_image(img, "truncated note");
		bool ours = nh.n_namesz == sizeof INGOT_NOTE_NAME &&
			    memcmp(img->file + name, INGOT_NOTE_NAME,
				   sizeof INGOT_NOTE_NAME) == 0;
		if (ours && nh.n_type == INGOT_NOTE_ABI &&
		    nh.n_descsz == sizeof(struct ingot_note_abi)) {
			struct ingot_note_abi abi;
			memcpy(&abi, img->file + desc, sizeof abi);
			if (abi.target != INGOT_TARGET_KVM)
				mon_fail(
				    "%s: an ingot image for another target "
				    "(%s)",
				    img->path,
				    abi.target == INGOT_TARGET_VIRTIO
					? "boot a virtio image on QEMU"
					: "run a hosted image directly");
			if (abi.abi_version != INGOT_ABI_VERSION)
				mon_fail("%s: built for ingot ABI %u, this "
					 "monitor serves ABI %u",
					 img->path, abi.abi_version,
					 INGOT_ABI_VERSION);
			abi_seen = true;
		}
		off = next;
	}
	if (!abi_seen)
		bad_image(img, "no ingot ABI note");
}

static bool note_present(struct image *img, const struct elf64_ehdr *eh)
{
	const struct elf64_phdr *ph = (const void *)(img->file + eh->e_phoff);
	for (unsigned i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == ELF_PT_NOTE) {
			check_note(img, &ph[i]);
			return true;
		}
	return false;
}

static void add_segment(struct image *img, const struct elf64_phdr *ph)
{
	struct image_segment *prev =
	    img->nseg ? &img->seg[img->nseg - 1] : NULL;
	uint64_t offset = ph->p_vaddr - ph->p_paddr;

	if (img->nseg == IMAGE_SEGMENTS_MAX)
		bad_image(img, "too many loadable segments");
	if ((ph->p_flags & ELF_PF_W) && (ph->p_flags & ELF_PF_X))
		bad_image(img, "a segment is both writable and executable");
	if (!in_file(img, ph->p_offset, ph->p_filesz) ||
	    ph->p_filesz > ph->p_memsz)
		bad_image(img, "segment outside the file");
	if (ph->p_vaddr % PAGE || ph->p_paddr % PAGE)
		bad_image(img, "segment not page-aligned");
	if (ph->p_memsz > INGOT_KVM_MEM_MAX ||
	    ph->p_paddr > INGOT_KVM_MEM_MAX - ph->p_memsz)
		bad_image(img, "segment beyond the largest guest memory");
	if (!prev) {
		if (ph->p_paddr != INGOT_KVM_IMAGE_BASE)
			bad_image(img, "first segment not at the image base");
		if (offset % (2UL << 20) || ph->p_vaddr < ph->p_paddr ||
		    offset > (1ULL << 47) - INGOT_KVM_MEM_MAX)
			bad_image(img, "unusable virtual address");
		img->offset = offset;
	} else {
		if (offset != img->offset)
			bad_image(img,
				  "segments disagree on the virtual offset");
		if (ph->p_paddr < prev->paddr + prev->memsz)
			bad_image(img, "segments overlap or are out of order");
		if ((prev->flags & ELF_PF_W) && !(ph->p_flags & ELF_PF_W))
			bad_image(img,
				  "read-only segment after a writable one");
	}
	img->seg[img->nseg++] = (struct image_segment){
	    .paddr = ph->p_paddr,
	    .memsz = ph->p_memsz,
	    .offset = ph->p_offset,
	    .filesz = ph->p_filesz,
	    .flags = ph->p_flags,
	};
}

/* The manifest section, found by name; entries are checked here. */
static void find_manifest(struct image *img, const struct elf64_ehdr *eh)
{
	if (eh->e_shnum == 0)
		return;
	if (eh->e_shentsize != sizeof(struct elf64_shdr) ||
	    !in_file(img, eh->e_shoff,
		     (uint64_t)eh->e_shnum * sizeof(struct elf64_shdr)) ||
	    eh->e_shoff % 8 || eh->e_shstrndx >= eh->e_shnum)
		bad_image(img, "bad section headers");
	const struct elf64_shdr *sh = (const void *)(img->file + eh->e_shoff);
	const struct elf64_shdr *names = &sh[eh->e_shstrndx];
	if (!in_file(img, names->sh_offset, names->sh_size))
		bad_image(img, "bad section names");
	static const char want[] = ".ingot.manifest";
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_name >= names->sh_size ||
		    names->sh_size - sh[i].sh_name < sizeof want ||
		    memcmp(img->file + names->sh_offset + sh[i].sh_name, want,
			   sizeof want) != 0)
			continue;
		size_t esz = sizeof(struct ingot_manifest_entry);
		if (!in_file(img, sh[i].sh_offset, sh[i].sh_size) ||
		    sh[i].sh_size % esz || sh[i].sh_offset % 4)
			bad_image(img, "malformed device manifest");
		img->manifest = (const void *)(img->file + sh[i].sh_offset);
		img->nmanifest = sh[i].sh_size / esz;
	}
	if (img->nmanifest > INGOT_DEVICES_MAX)
		bad_image(img, "more than 16 devices in the manifest");
	for (unsigned i = 0; i < img->nmanifest; i++) {
		const struct ingot_manifest_entry *e = &img->manifest[i];
		if (!memchr(e->name, '\0', sizeof e->name) || !e->name[0])
			bad_image(img, "device name not terminated");
		if (e->type != INGOT_DEVICE_NET &&
		    e->type != INGOT_DEVICE_BLOCK)
			bad_image(img, "unknown device type in the manifest");
		for (unsigned j = 0; j < i; j++)
			if (strcmp(img->manifest[j].name, e->name) == 0)
				bad_image(img, "device declared twice");
	}
}

void image_load(struct image *img, const char *path)
{
	memset(img, 0, sizeof *img);
	img->path = path;
	read_file(img);

	const struct elf64_ehdr *eh = (const void *)img->file;
	if (img->size < sizeof *eh || memcmp(eh->e_ident, ELF_MAGIC, 4) != 0)
		bad_image(img, "not an ELF file");
	if (eh->e_ident[ELF_EI_CLASS] != ELF_CLASS64 ||
	    eh->e_ident[ELF_EI_DATA] != ELF_DATA2LSB ||
	    eh->e_machine != ELF_EM_X86_64)
		bad_image(img, "not an x86_64 ELF file");
	if (eh->e_type != ELF_ET_EXEC)
		bad_image(img, "not a static executable");
	if (eh->e_phentsize != sizeof(struct elf64_phdr) ||
	    !in_file(img, eh->e_phoff,
		     (uint64_t)eh->e_phnum * sizeof(struct elf64_phdr)) ||
	    eh->e_phoff % 8)
		bad_image(img, "bad program headers");
	if (!note_present(img, eh))
		bad_image(img, "no ingot ABI note");

	const struct elf64_phdr *ph = (const void *)(img->file + eh->e_phoff);
	for (unsigned i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == ELF_PT_LOAD && ph[i].p_memsz)
			add_segment(img, &ph[i]);
	if (!img->nseg)
		bad_image(img, "nothing to load");

	img->ro_end = INGOT_KVM_IMAGE_BASE;
	img->rw_start = 0;
	bool entry_ok = false;
	for (unsigned i = 0; i < img->nseg; i++) {
		const struct image_segment *s = &img->seg[i];
		uint64_t end = (s->paddr + s->memsz + PAGE - 1) & ~(PAGE - 1);
		if (!(s->flags & ELF_PF_W))
			img->ro_end = end;
		else if (!img->rw_start)
			img->rw_start = s->paddr;
		img->end = end;
		if ((s->flags & ELF_PF_X) &&
		    eh->e_entry >= s->paddr + img->offset &&
		    eh->e_entry - s->paddr - img->offset < s->memsz)
			entry_ok = true;
	}
	if (!entry_ok)
		bad_image(img, "entry point outside the code");
	if (!img->rw_start)
		img->rw_start = img->end;
	img->entry = eh->e_entry;

	find_manifest(img, eh);
	if (elfsym_init(&img->syms, img->file, img->size) < 0)
		bad_image(img, "malformed symbol table");
}

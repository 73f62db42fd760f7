/*
 * ldgen: writes the linker script for one image, randomised by a seed.
 *
 * Compile-time address-space randomisation: every build links its image at
 * a fresh random base (2 MiB-aligned, anywhere from 4 GiB to 64 TiB, about
 * 25 bits) and lays out functions and data objects in a random order.  The
 * guest code is position-independent (-fpie) but linked at a fixed address,
 * so nothing is relocated at run time.  The same seed, image name and
 * objects give the same script, hence the same bytes.
 *
 * Usage: ldgen --target kvm|hosted|virtio --seed N --name IMAGE
 *              -o SCRIPT OBJ.o...
 * Prints "base 0x..." on stdout for the build log.
 *
 * The virtio target (platform/virtio) differs in three ways: its PVH entry
 * runs with paging off, so it gets a segment of its own linked at its
 * physical address (VIRTIO_PVH_BASE); the image proper starts above it, at
 * VIRTIO_IMAGE_BASE; and the offset is 1 GiB-aligned (16 bits of
 * randomness instead of 25) so that the entry's first page tables map the
 * image with one page directory.
 */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ingot/abi_kvm.h>

#define BASE_MIN   (1ULL << 32)
#define BASE_MAX   (1ULL << 46)
#define BASE_ALIGN (2ULL << 20)

#define VIRTIO_PVH_BASE     0x100000ULL
#define VIRTIO_PVH_MAX      0x10000ULL
#define VIRTIO_IMAGE_BASE   (VIRTIO_PVH_BASE + VIRTIO_PVH_MAX)
#define VIRTIO_OFFSET_ALIGN (1ULL << 30)

struct names {
	char **v;
	size_t n, cap;
};

static uint64_t rng_state[4];

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** */
static uint64_t rng_next(void)
{
	uint64_t *s = rng_state;
	uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Uniform in [0, n) without modulo bias. */
static uint64_t rng_below(uint64_t n)
{
	uint64_t limit = -n % n, r;
	do
		r = rng_next();
	while (r < limit);
	return r % n;
}

static void rng_seed(uint64_t seed, const char *name, const char *target)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a over name and target */
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = (h ^ '/') * 1099511628211ULL;
	for (const char *p = target; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	uint64_t x = seed ^ h;
	for (int i = 0; i < 4; i++)
		rng_state[i] = splitmix64(&x);
}

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "ldgen: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

static void names_add(struct names *ns, const char *name)
{
	for (size_t i = 0; i < ns->n; i++)
		if (strcmp(ns->v[i], name) == 0)
			return;
	if (ns->n == ns->cap) {
		ns->cap = ns->cap ? 2 * ns->cap : 64;
		ns->v = realloc(ns->v, ns->cap * sizeof *ns->v);
		if (!ns->v)
			die("%s", "out of memory");
	}
	ns->v[ns->n] = strdup(name);
	if (!ns->v[ns->n])
		die("%s", "out of memory");
	ns->n++;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted first, so the result depends only on the seed and the set. */
static void names_shuffle(struct names *ns)
{
	if (ns->n < 2)
		return;
	qsort(ns->v, ns->n, sizeof *ns->v, cmp_str);
	for (size_t i = ns->n - 1; i > 0; i--) {
		size_t j = rng_below(i + 1);
		char *t = ns->v[i];
		ns->v[i] = ns->v[j];
		ns->v[j] = t;
	}
}

/* Names a linker-script pattern can carry verbatim. */
static bool plain_name(const char *s)
{
	for (; *s; s++)
		if (!(*s == '.' || *s == '_' || (*s >= '0' && *s <= '9') ||
		      (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
			return false;
	return true;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static struct names text, rodata, data, bss;

static void classify(const char *name)
{
	if (!plain_name(name))
		return;
	if (has_prefix(name, ".text."))
		names_add(&text, name);
	else if (has_prefix(name, ".rodata.") ||
		 has_prefix(name, ".data.rel.ro"))
		names_add(&rodata, name);
	else if (has_prefix(name, ".data."))
		names_add(&data, name);
	else if (has_prefix(name, ".bss."))
		names_add(&bss, name);
}

static void scan_object(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		die("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	rewind(f);
	unsigned char *buf = malloc(len > 0 ? (size_t)len : 1);
	if (!buf || len < (long)sizeof(Elf64_Ehdr) ||
	    fread(buf, 1, (size_t)len, f) != (size_t)len)
		die("%s: not an ELF object", path);
	fclose(f);

	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_type != ET_REL ||
	    eh->e_shentsize != sizeof(Elf64_Shdr))
		die("%s: not an x86_64 ELF relocatable object", path);
	uint64_t shend =
	    eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr);
	if (eh->e_shoff > (uint64_t)len || shend > (uint64_t)len ||
	    eh->e_shstrndx >= eh->e_shnum)
		die("%s: bad section headers", path);
	Elf64_Shdr *sh = (Elf64_Shdr *)(buf + eh->e_shoff);
	Elf64_Shdr *strs = &sh[eh->e_shstrndx];
	if (strs->sh_offset > (uint64_t)len ||
	    strs->sh_size > (uint64_t)len - strs->sh_offset ||
	    strs->sh_size == 0)
		die("%s: bad section name table", path);
	const char *names = (const char *)buf + strs->sh_offset;
	if (names[strs->sh_size - 1] != '\0')
		die("%s: unterminated section name table", path);
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_name >= strs->sh_size)
			die("%s: bad section name", path);
		if (sh[i].sh_flags & SHF_ALLOC)
			classify(names + sh[i].sh_name);
	}
	free(buf);
}

static void emit_list(FILE *out, const struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		fprintf(out, "\t\t*(%s)\n", ns->v[i]);
}

static void emit_script(FILE *out, const char *target, uint64_t seed,
			uint64_t offset)
{
	bool hosted = strcmp(target, "hosted") == 0;
	bool virtio = strcmp(target, "virtio") == 0;
	uint64_t base =
	    offset + (virtio ? VIRTIO_IMAGE_BASE : INGOT_KVM_IMAGE_BASE);

	fprintf(out,
		"/* Generated by tools/ldgen: target %s, seed %" PRIu64 ". */\n"
		"OUTPUT_FORMAT(\"elf64-x86-64\")\n"
		"OUTPUT_ARCH(i386:x86-64)\n"
		"ENTRY(_start)\n"
		"PHDRS {\n"
		"%s"
		"\ttext PT_LOAD FLAGS(5);\n"
		"\trodata PT_LOAD FLAGS(4);\n"
		"\tdata PT_LOAD FLAGS(6);\n"
		"\tnote PT_NOTE FLAGS(4);\n"
		"%s"
		"}\n"
		"SECTIONS {\n"
		"\t__ingot_offset = 0x%" PRIx64 ";\n",
		target, seed,
		virtio
		    ? "\tpvh PT_LOAD FLAGS(5);\n\tpvhdata PT_LOAD FLAGS(6);\n"
		    : "",
		hosted ? "\tstack PT_GNU_STACK FLAGS(6);\n" : "", offset);
	if (virtio)
		fprintf(
		    out,
		    "\t/* The PVH entry: linked where it runs, paging off. */\n"
		    "\t.pvh 0x%llx : AT(0x%llx) {\n"
		    "\t\tKEEP(*(.pvh.text))\n"
		    "\t} :pvh\n"
		    "\t/* Its early page tables, initialised by the link. */\n"
		    "\t.pvh.data ALIGN(4096) : {\n"
		    "\t\tKEEP(*(.pvh.data))\n"
		    "\t} :pvhdata\n"
		    "\tASSERT(. <= 0x%llx, \"PVH entry too large\")\n",
		    VIRTIO_PVH_BASE, VIRTIO_PVH_BASE,
		    VIRTIO_PVH_BASE + VIRTIO_PVH_MAX);
	fprintf(out,
		"\t. = 0x%" PRIx64 ";\n"
		"\t.text : AT(ADDR(.text) - __ingot_offset) {\n",
		base);
	emit_list(out, &text);
	fprintf(out, "\t\t*(.text .text.* .iplt)\n"
		     "\t} :text\n"
		     "\t. = ALIGN(4096);\n"
		     "\t.rodata : AT(ADDR(.rodata) - __ingot_offset) {\n");
	emit_list(out, &rodata);
	fprintf(
	    out,
	    "\t\t*(.rodata .rodata.* .data.rel.ro .data.rel.ro.*)\n"
	    "\t\t/* Resolved at link time: nothing writes them. */\n"
	    "\t\t*(.got .got.plt .igot.plt)\n"
	    "\t} :rodata\n"
	    "\t/* Run-time relocations would need a loader: there must be "
	    "none. */\n"
	    "\t.rela.dyn : { *(.rela.*) } :rodata\n"
	    "\tASSERT(SIZEOF(.rela.dyn) == 0, \"image needs run-time "
	    "relocations\")\n"
	    "\t.ingot.init : AT(ADDR(.ingot.init) - __ingot_offset) {\n"
	    "\t\t__ingot_init_start = .;\n"
	    "\t\tKEEP(*(.ingot.init))\n"
	    "\t\t__ingot_init_end = .;\n"
	    "\t} :rodata\n"
	    "\t.ingot.manifest : AT(ADDR(.ingot.manifest) - __ingot_offset) {\n"
	    "\t\t__ingot_manifest_start = .;\n"
	    "\t\tKEEP(*(.ingot.manifest))\n"
	    "\t\t__ingot_manifest_end = .;\n"
	    "\t} :rodata\n"
	    "\t.note.ingot : AT(ADDR(.note.ingot) - __ingot_offset) {\n"
	    "\t\tKEEP(*(.note.ingot))\n"
	    "%s"
	    "\t} :rodata :note\n",
	    virtio ? "\t\tKEEP(*(.note.xen))\n" : "");
	/* Last in the read-only segment, so that adding the symbol table in
	 * a second link moves no function (the Makefile's link_virtio). */
	if (virtio)
		fprintf(out, "\t.ingot.symtab : AT(ADDR(.ingot.symtab) - "
			     "__ingot_offset) {\n"
			     "\t\t__ingot_symtab_start = .;\n"
			     "\t\tKEEP(*(.ingot.symtab))\n"
			     "\t\t__ingot_symtab_end = .;\n"
			     "\t} :rodata\n");
	fprintf(out, "\t. = ALIGN(4096);\n"
		     "\t.data : AT(ADDR(.data) - __ingot_offset) {\n");
	emit_list(out, &data);
	fprintf(out, "\t\t*(.data .data.*)\n"
		     "\t} :data\n"
		     "\t.bss : AT(ADDR(.bss) - __ingot_offset) {\n"
		     "\t\t__bss_start = .;\n");
	emit_list(out, &bss);
	fprintf(out,
		"\t\t*(.bss .bss.* COMMON)\n"
		"\t\t__bss_end = .;\n"
		"\t} :data\n"
		"\t. = ALIGN(4096);\n"
		"\t__image_end = .;\n"
		"%s",
		virtio ? "\t/* Where platform/virtio's tables change "
			 "protections. */\n"
			 "\t__rodata_start = ADDR(.rodata);\n"
			 "\t__data_start = ADDR(.data);\n"
		       : "");
	fprintf(out,
		"\t/DISCARD/ : {\n"
		"\t\t*(.comment .note.GNU-stack .note.gnu.property .eh_frame)\n"
		"\t}\n"
		"}\n");
}

static void usage(void)
{
	fprintf(stderr,
		"usage: ldgen --target kvm|hosted|virtio --seed N --name IMAGE "
		"-o SCRIPT OBJ...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *target = NULL, *name = NULL, *out_path = NULL;
	const char *seed_arg = NULL;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--target") == 0)
			target = argv[++i];
		else if (strcmp(argv[i], "--seed") == 0)
			seed_arg = argv[++i];
		else if (strcmp(argv[i], "--name") == 0)
			name = argv[++i];
		else if (strcmp(argv[i], "-o") == 0)
			out_path = argv[++i];
		else
			usage();
	}
	if (!target || !name || !out_path || !seed_arg ||
	    (strcmp(target, "kvm") != 0 && strcmp(target, "hosted") != 0 &&
	     strcmp(target, "virtio") != 0))
		usage();
	char *end;
	errno = 0;
	uint64_t seed = strtoull(seed_arg, &end, 10);
	if (errno || *end || end == seed_arg)
		die("bad seed '%s' (want a decimal number)", seed_arg);

	for (; i < argc; i++)
		scan_object(argv[i]);

	rng_seed(seed, name, target);
	uint64_t align =
	    strcmp(target, "virtio") == 0 ? VIRTIO_OFFSET_ALIGN : BASE_ALIGN;
	uint64_t slots = (BASE_MAX - BASE_MIN) / align;
	uint64_t offset = BASE_MIN + rng_below(slots) * align;
	names_shuffle(&text);
	names_shuffle(&rodata);
	names_shuffle(&data);
	names_shuffle(&bss);

	FILE *out = fopen(out_path, "w");
	if (!out)
		die("cannot write %s", out_path);
	emit_script(out, target, seed, offset);
	if (fclose(out) != 0)
		die("cannot write %s", out_path);
	printf("base 0x%" PRIx64 "\n",
	       (uint64_t)(offset + (strcmp(target, "virtio") == 0
					? VIRTIO_IMAGE_BASE
					: INGOT_KVM_IMAGE_BASE)));
	return 0;
}

/*
 * Start of day on the hosted target: an ordinary static Linux process.
 *   APP [--mem SIZE] [--net NAME=BACKEND]... [--] [ARGS...]
 * Platform options come first and end at the first argument that is not
 * one of them, or at "--"; the rest are the application's.
 */
#include <string.h>

#include "../common/boot.h"
#include "hosted.h"
#include "hosted_syscall.h"

#define MEM_DEFAULT (32UL << 20)
#define MEM_MIN (4UL << 20)
#define MEM_MAX (64UL << 30)

struct hosted hosted;

extern uintptr_t __stack_chk_guard;

_Noreturn void hosted_start(uintptr_t *sp);

static void say_to(int fd, const char *s) { syscall3(SYS_write, fd, s, strlen(s)); }

void hosted_say(const char *s) { say_to(2, s); }

#define say hosted_say

/* --help goes to standard output, a usage error to standard error. */
static _Noreturn void usage(const char *prog, const char *error)
{
	int fd = error ? 2 : 1;
	if (error) {
		say("ingot: ");
		say(error);
		say("\n");
	}
	say_to(fd, "usage: ");
	say_to(fd, prog);
	say_to(fd, " [--mem SIZE] [--net NAME=BACKEND]... [--] [ARGS...]\n"
	    "Runs this ingot image as a Linux process (the hosted target).\n"
	    "  --mem SIZE  guest memory, with a K, M or G suffix (default 32M)\n"
	    "  --net NAME=TAP[,mac=MAC]\n"
	    "              attach network device NAME to tap device TAP\n"
	    "  --net NAME=udp:LPORT:RPORT[,mac=MAC]\n"
	    "              ... to frames in UDP datagrams on 127.0.0.1, sent\n"
	    "              from port LPORT to port RPORT (no privilege needed)\n"
	    "  --help      print this and exit\n");
	syscall3(SYS_exit_group, error ? 2 : 0, 0, 0);
	__builtin_unreachable();
}

/* "64M" -> bytes, 0 if malformed. */
static uint64_t parse_size(const char *s)
{
	uint64_t v = 0;
	const char *p = s;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (MEM_MAX >> 0) / 10)
			return 0;
		v = v * 10 + (*p - '0');
	}
	if (p == s)
		return 0;
	unsigned shift = 0;
	switch (*p) {
	case 'K': case 'k': shift = 10; p++; break;
	case 'M': case 'm': shift = 20; p++; break;
	case 'G': case 'g': shift = 30; p++; break;
	}
	if (*p || v > (MEM_MAX >> shift))
		return 0;
	v <<= shift;
	return v >= MEM_MIN && v % 4096 == 0 ? v : 0;
}

/* Consumes the platform's options; returns the index of the first
 * application argument. */
static int parse_options(int argc, char **argv, uint64_t *mem)
{
	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		if (strcmp(a, "--") == 0)
			return i + 1;
		if (strcmp(a, "--help") == 0)
			usage(argv[0], NULL);
		if (strncmp(a, "--net=", 6) == 0 || strcmp(a, "--net") == 0) {
			if (!a[5] && i + 1 >= argc)
				usage(argv[0], "--net needs NAME=BACKEND");
			const char *err =
			    hosted_net_option(a[5] ? a + 6 : argv[++i]);
			if (err)
				usage(argv[0], err);
			continue;
		}
		if (strncmp(a, "--mem=", 6) == 0)
			val = a + 6;
		else if (strcmp(a, "--mem") == 0) {
			if (i + 1 >= argc)
				usage(argv[0], "--mem needs a size");
			val = argv[++i];
		} else {
			return i;
		}
		*mem = parse_size(val);
		if (!*mem)
			usage(argv[0], "--mem: not a size from 4M to 64G "
				       "(a multiple of 4K)");
	}
	return i;
}

static void die(const char *what)
{
	say("ingot: cannot start: ");
	say(what);
	say("\n");
	syscall3(SYS_exit_group, INGOT_EXIT_SETUP, 0, 0);
}

/* Maps the image file itself, read-only, for symbol names in fault
 * reports; its pages are read only if a fault happens. */
static void map_symbols(void)
{
	long fd = syscall4(SYS_openat, AT_FDCWD, "/proc/self/exe",
			   O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return;
	long size = syscall3(SYS_lseek, fd, 0, 2 /* SEEK_END */);
	if (size > 0) {
		long p = syscall6(SYS_mmap, 0, size, PROT_READ, MAP_PRIVATE, fd,
				  0);
		if (p > 0 || p < -4095)
			elfsym_init(&hosted.syms, (void *)p, size);
	}
	syscall3(SYS_close, fd, 0, 0);
}

static void setup_manifest(void)
{
	extern const struct ingot_manifest_entry __ingot_manifest_start[],
	    __ingot_manifest_end[];
	struct ingot_boot_info *bi = &hosted.info;
	for (const struct ingot_manifest_entry *e = __ingot_manifest_start;
	     e < __ingot_manifest_end && bi->ndevices < INGOT_DEVICES_MAX; e++) {
		struct ingot_device *d = &bi->devices[bi->ndevices];
		memcpy(d->name, e->name, sizeof d->name);
		d->type = e->type;
		d->handle = bi->ndevices++;
	}
}

/* Runs before the stack-protector canary is set, so it has none. */
__attribute__((no_stack_protector)) void hosted_start(uintptr_t *sp)
{
	int argc = (int)sp[0];
	char **argv = (char **)(sp + 1);
	uint64_t seed[2], mem = MEM_DEFAULT;

	if (syscall3(SYS_getrandom, seed, sizeof seed, 0) != sizeof seed)
		die("getrandom failed");
	__stack_chk_guard = boot_canary(seed[0]);

	hosted.stack_top = (uintptr_t)sp;
	hosted.mono_at_boot = hosted_clock(CLOCK_MONOTONIC);
	int first = parse_options(argc, argv, &mem);
	long heap = syscall6(SYS_mmap, 0, mem, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (heap < 0 && heap > -4096)
		die("cannot map guest memory");

	/* The application's argv: the image name, then its own arguments
	 * (argv[first - 1] is overwritten; the platform is done with it). */
	argv[first - 1] = argv[0];
	hosted.info = (struct ingot_boot_info){
	    .mem_size = mem,
	    .heap_start = (uintptr_t)heap,
	    .heap_size = mem,
	    .argc = argc - first + 1,
	    .argv = argv + first - 1,
	    .clock_hz = 1000000000,
	    .random_seed = seed[1],
	};
	setup_manifest();
	hosted_net_setup();
	map_symbols();
	hosted_signals_init();
	boot_run(hosted.info.argc, (char **)hosted.info.argv);
}

/*
 * Start of day on the hosted target: an ordinary static Linux process.
 *   APP [--mem SIZE] [--net NAME=BACKEND]... [--block NAME=FILE]... [--]
 *       [ARGS...]
 * Platform options come first and end at the first argument that is not
 * one of them, or at "--"; the rest are the application's.
 */
#include <string.h>

#include "../../host/block.h"
#include "../../host/msg.h"
#include "../../host/net.h"
#include "../../host/option.h"
#include "../../host/requests.h"
#include "../common/boot.h"
#include "hosted.h"

#define MEM_DEFAULT (32UL << 20)
#define MEM_MIN     (4UL << 20)
#define MEM_MAX     (64UL << 30)

struct hosted hosted;

extern uintptr_t __stack_chk_guard;

_Noreturn void hosted_start(uintptr_t *sp);

static void say_to(int fd, const char *s)
{
	syscall3(SYS_write, fd, s, strlen(s));
}

/* --help goes to standard output, a usage error to standard error. */
static _Noreturn void usage(const char *prog, const char *error)
{
	int fd = error ? 2 : 1;
	if (error)
		host_msg("%s", error);
	say_to(fd, "usage: ");
	say_to(fd, prog);
	say_to(
	    fd,
	    " [--mem SIZE] [--net NAME=BACKEND]... [--block NAME=FILE]...\n"
	    "       [--] [ARGS...]\n"
	    "Runs this ingot image as a Linux process (the hosted target).\n"
	    "  --mem SIZE  guest memory, with a K, M or G suffix (default "
	    "32M)\n"
	    "  --net NAME=TAP[,mac=MAC][,queue=N][,offload=off]\n"
	    "              attach network device NAME to tap device TAP, its "
	    "queue\n"
	    "              raised to N frames (default: as it is)\n"
	    "  --net NAME=udp:LPORT:RPORT[,mac=MAC]\n"
	    "              ... to frames in UDP datagrams on 127.0.0.1, sent\n"
	    "              from port LPORT to port RPORT (no privilege "
	    "needed)\n"
	    "  --block NAME=FILE[,ro]\n"
	    "              attach block device NAME to FILE (read-only with "
	    ",ro)\n"
	    "  --help      print this and exit\n");
	syscall3(SYS_exit_group, error ? 2 : 0, 0, 0);
	__builtin_unreachable();
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
			    host_net_option(a[5] ? a + 6 : argv[++i]);
			if (err)
				usage(argv[0], err);
			continue;
		}
		if (strncmp(a, "--block=", 8) == 0 ||
		    strcmp(a, "--block") == 0) {
			if (!a[7] && i + 1 >= argc)
				usage(argv[0], "--block needs NAME=FILE");
			const char *err =
			    host_block_option(a[7] ? argv[i] + 8 : argv[++i]);
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
		const char *err = host_parse_size(val, MEM_MIN, MEM_MAX, mem);
		if (err)
			usage(argv[0], err);
	}
	return i;
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
		long p =
		    syscall6(SYS_mmap, 0, size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p > 0 || p < -4095)
			elfsym_init(&hosted.syms, (void *)p, size);
	}
	syscall3(SYS_close, fd, 0, 0);
}

/* The image's devices (its manifest) in the boot info, each network
 * device attached to its --net backend, each block device to its file. */
static void setup_devices(void)
{
	extern const struct ingot_manifest_entry __ingot_manifest_start[],
	    __ingot_manifest_end[];
	const struct ingot_manifest_entry *m = __ingot_manifest_start;
	struct ingot_boot_info *bi = &hosted.info;
	size_t n = (size_t)(__ingot_manifest_end - m);

	if (n > INGOT_DEVICES_MAX)
		n = INGOT_DEVICES_MAX;
	host_net_setup(m, (unsigned)n, hosted_guest_ptr);
	host_block_setup(m, (unsigned)n, hosted_guest_ptr);
	for (unsigned i = 0; i < n; i++) {
		struct ingot_device *d = &bi->devices[i];
		memcpy(d->name, m[i].name, sizeof d->name);
		d->type = m[i].type;
		d->handle = i;
		if (d->type == INGOT_DEVICE_NET)
			d->attached = host_net_info(i, &d->u.net);
		else if (d->type == INGOT_DEVICE_BLOCK)
			d->attached = host_block_info(i, &d->u.block);
	}
	bi->ndevices = (uint32_t)n;
}

/* The end of the arguments and environment strings above the stack, which
 * the kernel put at the top of the stack's last page. */
static uintptr_t strings_end(char **argv)
{
	uintptr_t end = (uintptr_t)argv;
	char **p = argv;
	for (int list = 0; list < 2; list++, p++) /* argv, then envp */
		for (; *p; p++) {
			uintptr_t e = (uintptr_t)*p + strlen(*p) + 1;
			if (e > end)
				end = e;
		}
	return (end + INGOT_PAGE_SIZE - 1) & ~(uintptr_t)(INGOT_PAGE_SIZE - 1);
}

/* Runs before the stack-protector canary is set, so it has none. */
__attribute__((no_stack_protector)) void hosted_start(uintptr_t *sp)
{
	int argc = (int)sp[0];
	char **argv = (char **)(sp + 1);
	uint64_t seed[2], mem = MEM_DEFAULT;

	if (syscall3(SYS_getrandom, seed, sizeof seed, 0) != sizeof seed)
		host_fail("cannot start: getrandom failed");
	__stack_chk_guard = boot_canary(seed[0]);

	host_msg_init("ingot");
	hosted.stack_top = (uintptr_t)sp;
	hosted.stack_end = strings_end(argv);
	hosted.mono_at_boot = hosted_clock(CLOCK_MONOTONIC);
	int first = parse_options(argc, argv, &mem);
	long heap =
	    syscall6(SYS_mmap, 0, mem, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (heap < 0 && heap > -4096)
		host_fail("cannot start: cannot map guest memory");

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
	setup_devices();
	map_symbols();
	host_requests_init();
	hosted_signals_init();
	boot_run(hosted.info.argc, (char **)hosted.info.argv);
}

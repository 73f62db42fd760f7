/*
 * Start of day on the virtio target: from the PVH entry (pvh.S) to
 * ingot_main().  The hypervisor's start info gives the memory map and the
 * command line, which holds the image's arguments (QEMU's -append).
 */
#include <string.h>

#include "../common/boot.h"
#include "virtio.h"
#include "virtio_dev.h"

#define HVM_START_MAGIC 0x336ec578
#define E820_RAM        1
#define CMDLINE_MAX     4096
#define ARGS_MAX        64
#define LOW_GIB         (1ULL << 30) /* what the entry's tables map */

struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
	uint64_t memmap_paddr; /* version 1 and later */
	uint32_t memmap_entries, reserved;
};

struct hvm_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

struct virtio virtio;
char virtio_early_stack[VIRTIO_EARLY_STACK] __attribute__((aligned(16)));

static char cmdline[CMDLINE_MAX];
static char *argv[ARGS_MAX + 1];
static uintptr_t boot_stack_top, ist_top;
static uint64_t heap_phys;

extern uintptr_t __stack_chk_guard;

_Noreturn void virtio_boot(uint64_t start_info_phys, uint32_t ext_features);

static _Noreturn void fail(const char *msg)
{
	ingot_abort(msg, strlen(msg));
}

/* Physical memory the entry's tables map, as a pointer, or NULL. */
static const void *low(uint64_t phys, uint64_t len)
{
	if (!phys || phys >= LOW_GIB || len > LOW_GIB - phys)
		return NULL;
	return phys_to_virt(phys);
}

/* The end of the RAM region holding the image, at most 4 GiB. */
static uint64_t ram_end_of(const struct hvm_start_info *si, uint64_t image)
{
	const struct hvm_memmap_entry *m = NULL;
	if (si->version >= 1)
		m = low(si->memmap_paddr,
			(uint64_t)si->memmap_entries * sizeof *m);
	if (!m)
		fail("the start info has no memory map");
	for (uint32_t i = 0; i < si->memmap_entries; i++) {
		uint64_t end = m[i].addr + m[i].size;
		if (m[i].type == E820_RAM && m[i].addr <= VIRTIO_PVH_BASE &&
		    end >= image)
			return end < (4ULL << 30) ? end & ~4095ULL : 4ULL << 30;
	}
	fail("no RAM region holds the image");
}

/* Splits the command line in place: blanks separate arguments, double
 * quotes group (so "" is an empty argument), a backslash escapes. */
static int split_args(char *s)
{
	int argc = 1;
	argv[0] = "ingot";
	while (argc < ARGS_MAX) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		char *out = s;
		argv[argc++] = out;
		bool quoted = false;
		for (; *s && (quoted || (*s != ' ' && *s != '\t')); s++) {
			if (*s == '"')
				quoted = !quoted;
			else if (*s == '\\' && s[1])
				*out++ = *++s;
			else
				*out++ = *s;
		}
		char *next = *s ? s + 1 : s;
		*out = '\0';
		s = next;
		/* The hypervisor's device list is not the image's. */
		if (virtio_mmio_arg(argv[argc - 1]))
			argc--;
	}
	argv[argc] = NULL;
	return argc;
}

static uint64_t random_seed(void)
{
	uint64_t v;
	if (virtio.cpuid1[2] & (1u << 30))
		for (int i = 0; i < 10; i++) {
			unsigned char ok;
			__asm__ volatile("rdrand %0; setc %1"
					 : "=r"(v), "=qm"(ok));
			if (ok)
				return v;
		}
	/* No RDRAND: the TSC is all there is (README says so). */
	return rdtsc() * 0x9e3779b97f4a7c15ULL;
}

static void setup_devices(void)
{
	extern const struct ingot_manifest_entry __ingot_manifest_start[],
	    __ingot_manifest_end[];
	const struct ingot_manifest_entry *m = __ingot_manifest_start;
	size_t n = (size_t)(__ingot_manifest_end - m);
	if (n > INGOT_DEVICES_MAX)
		n = INGOT_DEVICES_MAX;
	for (unsigned i = 0; i < n; i++) {
		struct ingot_device *d = &virtio.info.devices[i];
		memcpy(d->name, m[i].name, sizeof d->name);
		d->type = m[i].type;
		d->handle = i;
	}
	virtio.info.ndevices = (uint32_t)n;
	/* Probing costs exits: only for an image that wants devices. */
	if (n) {
		apic_start();
		virtio_pci_probe();
		virtio_mmio_probe();
	}
	vnet_setup();
	vblk_setup();
	vdev_report_unclaimed();
}

/* On the boot stack, with the image's own tables. */
static __attribute__((no_stack_protector)) _Noreturn void boot_main(void)
{
	trap_init(ist_top);
	clock_init();
	virtio.info.random_seed = random_seed();
	__stack_chk_guard = boot_canary(random_seed());
	virtio.info.heap_start = (uintptr_t)phys_to_virt(heap_phys);
	virtio.info.heap_size = virtio.ram_end - heap_phys;
	virtio.info.mem_size = virtio.ram_end;
	virtio.info.argc = split_args(cmdline);
	virtio.info.argv = argv;
	setup_devices();
	boot_run(virtio.info.argc, argv);
}

/* On the entry's stack and tables; ext_features is the entry's cpuid
 * 0x80000001 (edx). */
__attribute__((no_stack_protector)) _Noreturn void
virtio_boot(uint64_t start_info_phys, uint32_t ext_features)
{
	virtio.offset = (uintptr_t)__ingot_offset;
	serial_init();
	cpuid(1, virtio.cpuid1);
	if (!(ext_features & (1u << 20)))
		fail("this CPU has no NX bit: W^X cannot hold");

	const struct hvm_start_info *si = low(start_info_phys, sizeof *si);
	if (!si || si->magic != HVM_START_MAGIC)
		fail("no PVH start info (boot with QEMU -kernel or a PVH "
		     "loader)");
	const char *cl = low(si->cmdline_paddr, 1);
	if (cl) {
		size_t n = strnlen(cl, CMDLINE_MAX);
		if (n == CMDLINE_MAX)
			fail("command line longer than 4095 bytes");
		memcpy(cmdline, cl, n);
	}
	uint64_t image_end = virt_to_phys(__image_end);
	virtio.ram_end = ram_end_of(si, image_end);
	heap_phys =
	    paging_init(image_end, virtio.ram_end, &boot_stack_top, &ist_top);
	virtio_switch_stack(boot_stack_top, boot_main);
}

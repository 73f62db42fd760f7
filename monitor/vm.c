/*
 * Creating the VM: guest memory and its slots, the loaded image, boot info,
 * descriptor tables, and a vCPU already in 64-bit long mode (no BIOS, no
 * bootloader, no mode switches in the guest).
 */
#include <cpuid.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "../host/elf64.h"
#include "../host/block.h"
#include "../host/net.h"
#include "monitor.h"

#define PAGE         4096UL
#define MSR_IA32_TSC 0x10
#define MSR_LSTAR    0xc0000082

#define CR0_PE       (1UL << 0)
#define CR0_MP       (1UL << 1)
#define CR0_EM       (1UL << 2) /* no x87/SSE: guests are general-registers only */
#define CR0_ET       (1UL << 4)
#define CR0_NE       (1UL << 5)
#define CR0_WP       (1UL << 16)
#define CR0_PG       (1UL << 31)
#define CR4_PAE      (1UL << 5)
#define RFLAGS_FIXED (1UL << 1)
/* Port I/O from CPL 3 (abi_kvm.h, "Privilege"). */
#define RFLAGS_IOPL3 (3UL << 12)
#define EFER_LME     (1UL << 8)
#define EFER_LMA     (1UL << 10)
#define EFER_NXE     (1UL << 11)

/* Memory slots, bottom up; the read-only ones hold what the guest must
 * never write (a write is an exit the monitor reports).  As few as the
 * layout allows: each costs 50 to 150 us to add on nested KVM. */
enum slot { SLOT_RO, SLOT_RW, SLOT_TABLES };

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
	/* The I/O permission bitmap: a clear bit lets CPL 3 use the port.
	 * Only the hypercall ports are open; the last byte ends it. */
	uint8_t iomap[(INGOT_KVM_HC_BASE + INGOT_KVM_HC_PORTS) / 8 + 2];
} __attribute__((packed));

#define GDT_ENTRIES 7
#define TSS_OFFSET  0x80  /* from the GDT's start, in the same page */
#define IDT_OFFSET  0x800 /* likewise */

static bool inside(uint64_t pa, uint64_t len, uint64_t start, uint64_t end)
{
	return pa >= start && pa <= end && len <= end - pa;
}

void *vm_guest_ptr(struct guest *g, uint64_t gva, uint64_t len, bool writable)
{
	if (gva < g->img.offset)
		return NULL;
	uint64_t pa = gva - g->img.offset;
	bool ok = writable
		      ? inside(pa, len, g->img.rw_start, g->heap_end) ||
			    inside(pa, len, g->stack_start, g->tables_start)
		      : inside(pa, len, 0, g->mem_size);
	return ok ? g->mem + pa : NULL;
}

static void set_slot(struct guest *g, enum slot slot, uint64_t start,
		     uint64_t end, bool readonly)
{
	struct kvm_userspace_memory_region r = {
	    .slot = slot,
	    .flags = readonly ? KVM_MEM_READONLY : 0,
	    .guest_phys_addr = start,
	    .memory_size = end - start,
	    .userspace_addr = (uintptr_t)(g->mem + start),
	};
	if (end > start && ioctl(g->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		mon_fail("KVM_SET_USER_MEMORY_REGION: %m");
}

static void open_kvm(struct guest *g)
{
	g->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (g->kvm_fd < 0)
		mon_fail("cannot open /dev/kvm: %m (is KVM available on "
			 "this machine? the hosted target runs without it)");
	if (ioctl(g->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		mon_fail("/dev/kvm speaks an unknown KVM API version");
	if (ioctl(g->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) <= 0)
		mon_fail(
		    "KVM lacks read-only memory slots, which sealing needs");
	g->vm_fd = ioctl(g->kvm_fd, KVM_CREATE_VM, 0);
	if (g->vm_fd < 0)
		mon_fail("KVM_CREATE_VM: %m");
}

static void create_memory(struct guest *g)
{
	const struct image *img = &g->img;

	/* Untouched pages cost nothing: a large --mem is address space. */
	g->mem = mmap(NULL, g->mem_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (g->mem == MAP_FAILED)
		mon_fail("cannot map %lu bytes of guest memory: %m",
			 (unsigned long)g->mem_size);
	/* Fresh memory is zero, so only file contents are copied (bss and
	 * the tail of each page stay untouched). */
	for (unsigned i = 0; i < img->nseg; i++)
		memcpy(g->mem + img->seg[i].paddr,
		       img->file + img->seg[i].offset, img->seg[i].filesz);
	set_slot(g, SLOT_RO, 0, img->ro_end, true);
	set_slot(g, SLOT_RW, img->ro_end, g->tables_start, false);
	set_slot(g, SLOT_TABLES, g->tables_start, g->tables_end, true);
}

/*
 * The protection requests changed copies of the tables (paging.c): loading
 * CR3 with their root puts them in force, and as a CR3 change it flushes
 * the guest's TLB (no page is global) on any KVM.  Nothing to do when the
 * guest asked for none.
 */
void vm_seal(struct guest *g)
{
	struct kvm_sregs sr;

	if (g->next_cr3) {
		if (ioctl(g->vcpu_fd, KVM_GET_SREGS, &sr) < 0)
			mon_stop(g, "cannot seal the guest: KVM_GET_SREGS: %m");
		sr.cr3 = g->next_cr3;
		if (ioctl(g->vcpu_fd, KVM_SET_SREGS, &sr) < 0)
			mon_stop(g, "cannot seal the guest: KVM_SET_SREGS: %m");
		g->cr3 = g->next_cr3;
	}
	g->sealed = true;
	seccomp_seal(g);
}

/* The boot info page: struct ingot_kvm_boot, argv, the argument strings. */
static void write_boot_info(struct guest *g, int argc, char **argv)
{
	const struct image *img = &g->img;
	unsigned char *page = g->mem + INGOT_KVM_BOOT_BASE;
	struct ingot_kvm_boot *b = (struct ingot_kvm_boot *)page;
	uint64_t argv_at = (sizeof *b + 15) & ~15UL;
	uint64_t str_at = argv_at + (argc + 1) * sizeof(uint64_t);
	uint64_t va = INGOT_KVM_BOOT_BASE + img->offset;

	if (str_at > INGOT_KVM_BOOT_SIZE)
		mon_fail("too many guest arguments");
	uint64_t *av = (uint64_t *)(page + argv_at);
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]) + 1;
		if (n > INGOT_KVM_BOOT_SIZE - str_at)
			mon_fail("guest arguments longer than %lu bytes",
				 INGOT_KVM_BOOT_SIZE - argv_at);
		memcpy(page + str_at, argv[i], n);
		av[i] = va + str_at;
		str_at += n;
	}
	av[argc] = 0;

	b->info.mem_size = g->mem_size;
	b->info.heap_start = g->heap_start + img->offset;
	b->info.heap_size = g->heap_end - g->heap_start;
	b->info.argc = argc;
	b->info.argv = (char *const *)(va + argv_at);
	if (getrandom(&b->info.random_seed, sizeof b->info.random_seed, 0) !=
	    sizeof b->info.random_seed)
		mon_fail("getrandom: %m");
	b->info.ndevices = img->nmanifest;
	for (unsigned i = 0; i < img->nmanifest; i++) {
		struct ingot_device *d = &b->info.devices[i];
		memcpy(d->name, img->manifest[i].name, sizeof d->name);
		d->type = img->manifest[i].type;
		d->handle = i;
		if (d->type == INGOT_DEVICE_NET)
			d->attached = host_net_info(i, &d->u.net);
		else if (d->type == INGOT_DEVICE_BLOCK)
			d->attached = host_block_info(i, &d->u.block);
	}
	b->offset = img->offset;
	b->stack_top = g->tables_start + img->offset;
	g->boot = b;
}

struct idt_gate {
	uint16_t offset_low, selector;
	uint8_t ist, type_attr;
	uint16_t offset_mid;
	uint32_t offset_high, reserved;
};

/* Vector v's stub (or the syscall stub's), guest-virtual. */
static uint64_t stub(struct guest *g, unsigned v)
{
	return INGOT_KVM_STUBS_BASE + v * INGOT_KVM_STUB_SIZE + g->img.offset;
}

static void write_descriptors(struct guest *g)
{
	uint64_t *gdt = (uint64_t *)(g->mem + INGOT_KVM_GDT_BASE);
	struct tss64 *tss =
	    (struct tss64 *)(g->mem + INGOT_KVM_GDT_BASE + TSS_OFFSET);
	struct idt_gate *idt =
	    (struct idt_gate *)(g->mem + INGOT_KVM_GDT_BASE + IDT_OFFSET);
	uint64_t tss_va = INGOT_KVM_GDT_BASE + TSS_OFFSET + g->img.offset;
	uint64_t limit = sizeof *tss - 1;

	_Static_assert(TSS_OFFSET + sizeof *tss <= IDT_OFFSET, "TSS size");
	_Static_assert(INGOT_KVM_HC_BASE % 8 == 0 &&
			   INGOT_KVM_HC_PORTS % 8 == 0,
		       "hypercall ports");

	/* Accessed (and TSS busy) bits are preset: the CPU never has to write
	 * these tables, which become read-only at the seal. */
	gdt[0] = 0;
	gdt[1] = 0x00af9b000000ffffULL; /* 64-bit code, DPL 0 */
	gdt[2] = 0x00cf93000000ffffULL; /* data, DPL 0 */
	gdt[3] = 0x00affb000000ffffULL; /* 64-bit code, DPL 3 */
	gdt[4] = 0x00cff3000000ffffULL; /* data, DPL 3 */
	gdt[5] = (limit & 0xffff) | ((tss_va & 0xffffff) << 16) |
		 (0x8bULL << 40) | ((limit >> 16 & 0xf) << 48) |
		 ((tss_va >> 24 & 0xff) << 56);
	gdt[6] = tss_va >> 32;
	memset(tss, 0, sizeof *tss);
	tss->rsp[0] = g->ist_top + g->img.offset;
	tss->ist[0] = g->ist_top + g->img.offset;
	tss->iomap_base = offsetof(struct tss64, iomap);
	memset(tss->iomap, 0xff, sizeof tss->iomap);
	memset(tss->iomap + INGOT_KVM_HC_BASE / 8, 0, INGOT_KVM_HC_PORTS / 8);
	/* A 4-byte access checks the bits of all four ports it covers. */
	tss->iomap[(INGOT_KVM_HC_BASE + INGOT_KVM_HC_PORTS) / 8] &= ~0x07;

	/* Interrupt gates to the monitor's stubs at CPL 0 on IST1, DPL 0: the
	 * guest cannot raise them with int. */
	for (unsigned v = 0; v < INGOT_KVM_VECTORS; v++) {
		uint64_t a = stub(g, v);
		idt[v] = (struct idt_gate){
		    .offset_low = a & 0xffff,
		    .selector = INGOT_KVM_SEL_KERNEL_CODE,
		    .ist = 1,
		    .type_attr = 0x8e,
		    .offset_mid = a >> 16 & 0xffff,
		    .offset_high = a >> 32,
		};
	}
}

/*
 * The guest's CPUID: only what its fixed state needs, taken from the host's
 * own: long mode and NX (KVM checks EFER against them) and the address
 * sizes.  The guest never executes CPUID, and asking KVM for every
 * leaf it supports costs some 300 us nested, a fifth of a launch.
 */
static void set_cpuid(struct guest *g)
{
	enum { LM = 1U << 29, NX = 1U << 20 };
	struct {
		struct kvm_cpuid2 hdr;
		struct kvm_cpuid_entry2 e[3];
	} c = {.hdr.nent = 3};
	unsigned a, b, cx, d;

	__cpuid(0x80000000, a, b, cx, d);
	if (a < 0x80000008)
		mon_fail("this CPU does not report its address sizes (CPUID "
			 "0x80000008)");
	c.e[0] = (struct kvm_cpuid_entry2){.function = 0x80000000,
					   .eax = 0x80000008,
					   .ebx = b,
					   .ecx = cx,
					   .edx = d};
	__cpuid(0x80000001, a, b, cx, d);
	if ((d & (LM | NX)) != (LM | NX))
		mon_fail("this CPU lacks long mode or NX, which guests need");
	c.e[1] = (struct kvm_cpuid_entry2){.function = 0x80000001,
					   .edx = d & (LM | NX)};
	__cpuid(0x80000008, a, b, cx, d);
	c.e[2] = (struct kvm_cpuid_entry2){.function = 0x80000008,
					   .eax = a & 0xffff};
	if (ioctl(g->vcpu_fd, KVM_SET_CPUID2, &c) < 0)
		mon_fail("KVM_SET_CPUID2: %m");
}

static void set_segment(struct kvm_segment *s, uint16_t sel, uint8_t type,
			bool code)
{
	*s = (struct kvm_segment){
	    .base = 0,
	    .limit = 0xffffffff,
	    .selector = sel,
	    .type = type,
	    .present = 1,
	    .dpl = sel & 3,
	    .s = 1,
	    .l = code,
	    .db = !code,
	    .g = 1,
	};
}

static void setup_vcpu(struct guest *g)
{
	struct kvm_sregs sr;
	uint64_t va = g->img.offset;

	int fd = ioctl(g->vm_fd, KVM_CREATE_VCPU, 0);
	if (fd < 0)
		mon_fail("KVM_CREATE_VCPU: %m");
	if (dup3(fd, MON_VCPU_FD, O_CLOEXEC) < 0 || close(fd) < 0)
		mon_fail("cannot move the vCPU's descriptor: %m");
	g->vcpu_fd = MON_VCPU_FD;
	int run_size = ioctl(g->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(struct kvm_run))
		mon_fail("KVM_GET_VCPU_MMAP_SIZE: %m");
	g->run_size = run_size;
	g->run = mmap(NULL, g->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      g->vcpu_fd, 0);
	if (g->run == MAP_FAILED)
		mon_fail("cannot map the vCPU's run area: %m");
	set_cpuid(g);

	if (ioctl(g->vcpu_fd, KVM_GET_SREGS, &sr) < 0)
		mon_fail("KVM_GET_SREGS: %m");
	set_segment(&sr.cs, INGOT_KVM_SEL_USER_CODE, 0xb, true);
	set_segment(&sr.ds, INGOT_KVM_SEL_USER_DATA, 0x3, false);
	sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
	sr.tr = (struct kvm_segment){
	    .base = INGOT_KVM_GDT_BASE + TSS_OFFSET + va,
	    .limit = sizeof(struct tss64) - 1,
	    .selector = INGOT_KVM_SEL_TSS,
	    .type = 0xb,
	    .present = 1,
	};
	sr.gdt.base = INGOT_KVM_GDT_BASE + va;
	sr.gdt.limit = GDT_ENTRIES * 8 - 1;
	sr.idt.base = INGOT_KVM_GDT_BASE + IDT_OFFSET + va;
	sr.idt.limit = INGOT_KVM_VECTORS * sizeof(struct idt_gate) - 1;
	sr.cr0 = CR0_PE | CR0_MP | CR0_EM | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sr.cr3 = g->cr3;
	sr.cr4 = CR4_PAE;
	sr.efer = EFER_LME | EFER_LMA | EFER_NXE;
	if (ioctl(g->vcpu_fd, KVM_SET_SREGS, &sr) < 0)
		mon_fail("KVM_SET_SREGS (entering long mode): %m");

	struct kvm_regs regs = {
	    .rip = g->img.entry,
	    .rsp = g->boot->stack_top,
	    .rdi = INGOT_KVM_BOOT_BASE + va,
	    .rflags = RFLAGS_FIXED | RFLAGS_IOPL3,
	};
	if (ioctl(g->vcpu_fd, KVM_SET_REGS, &regs) < 0)
		mon_fail("KVM_SET_REGS: %m");

	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} msrs = {
	    .hdr.nmsrs = 1,
	    .e = {.index = MSR_LSTAR, .data = stub(g, INGOT_KVM_STUB_SYSCALL)}};
	if (ioctl(g->vcpu_fd, KVM_SET_MSRS, &msrs) != 1)
		mon_fail("KVM_SET_MSRS (LSTAR): %m");
}

/* Monotonic time 0 for the guest: its TSC and the host's clocks, now. */
static void start_clock(struct guest *g)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} msrs = {.hdr.nmsrs = 1, .e.index = MSR_IA32_TSC};
	struct timespec wall;

	int khz = ioctl(g->vcpu_fd, KVM_GET_TSC_KHZ, 0);
	if (khz <= 0)
		mon_fail("KVM_GET_TSC_KHZ: %m");
	if (ioctl(g->vcpu_fd, KVM_GET_MSRS, &msrs) != 1)
		mon_fail("cannot read the guest's TSC: %m");
	g->host_mono_at_boot = mon_now();
	clock_gettime(CLOCK_REALTIME, &wall);
	g->boot->tsc_hz = (uint64_t)khz * 1000;
	g->boot->tsc_at_boot = msrs.e.data;
	g->boot->wall_at_boot_ns =
	    (uint64_t)wall.tv_sec * 1000000000ULL + wall.tv_nsec;
	g->boot->info.clock_hz = g->boot->tsc_hz;
}

/*
 * The top of memory, from the top down: the page tables, the boot stack, a
 * guard page, the exception stack; the heap ends below them.  The tables
 * at the very top leave the rest one writable slot.
 */
static void lay_out(struct guest *g, uint64_t mem_size)
{
	g->mem_size = mem_size;
	uint64_t tables = paging_tables_needed(g) * PAGE;
	uint64_t top = tables + MON_BOOT_STACK_SIZE + 2 * PAGE;
	if (mem_size < g->img.end || mem_size - g->img.end < top + PAGE)
		mon_fail("%s needs more than %lu KiB of memory (--mem)",
			 g->img.path, (unsigned long)(mem_size >> 10));
	g->heap_start = g->img.end;
	g->tables_end = mem_size;
	g->tables_start = mem_size - tables;
	g->stack_start = g->tables_start - MON_BOOT_STACK_SIZE;
	g->ist_top = g->stack_start - PAGE;
	g->heap_end = mem_size - top;
}

void vm_create(struct guest *g, uint64_t mem_size, int argc, char **argv)
{
	lay_out(g, mem_size);
	open_kvm(g);
	create_memory(g);
	paging_build(g);
	trap_write_stubs(g);
	write_boot_info(g, argc, argv);
	write_descriptors(g);
	setup_vcpu(g);
	start_clock(g);
}

/*
 * Descriptor tables and CPU exceptions.  The guest runs at CPL 0 here, so
 * it reports its own faults, in the report format of the other targets
 * (host/fault.c), with symbol names from the table the build embeds
 * (.ingot.symtab; addresses only if it is empty), on the console.
 */
#include <stdio.h>
#include <string.h>

#include "../../host/fault.h"
#include "virtio.h"

struct virtio_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx,
	    rbx, rax, vector, error, rip, cs, rflags, rsp, ss;
};

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3, iomap_base;
} __attribute__((packed));

/* An interrupt gate: offset 0..15, selector, IST, type, offset 16..31,
 * then offset 32..63. */
struct gate {
	uint64_t lo, hi;
};

/*
 * The IDT covers the vectors in use and no more (each gate written here
 * costs microseconds at CPL 0 on kvm-pvm): a vector past its limit is a
 * #GP, one on an absent gate below it a #NP, and virtio_trap names the
 * vector either way.
 */
#define IDT_GATES (VIRTIO_SPURIOUS_VECTOR + 1)

/*
 * The descriptor tables share a page of their own, so the seal can make
 * exactly it read-only.  The TSS's I/O bitmap lets code at CPL 3 reach
 * only the ports it needs after the seal: the console, the exit device,
 * fw_cfg's selector and data (not its DMA: that writes memory), the
 * i8042's reset.
 */
#define IOMAP_PORTS 0x520
static struct {
	struct gate idt[IDT_GATES];
	uint64_t gdt[7];
	struct tss tss;
	uint8_t iomap[IOMAP_PORTS / 8 + 1]; /* then a byte of ones */
	char pad[4096 - IDT_GATES * sizeof(struct gate) - 7 * 8 -
		 sizeof(struct tss) - IOMAP_PORTS / 8 - 1];
} desc __attribute__((aligned(4096)));
_Static_assert(sizeof desc == 4096, "descriptor tables: one page");
_Static_assert(VIRTIO_DEVICE_VECTOR + VIRTIO_DEVICE_VECTORS <=
		   VIRTIO_SPURIOUS_VECTOR,
	       "device vectors overlap the spurious one");

static void allow_ports(unsigned from, unsigned n)
{
	for (unsigned p = from; p < from + n; p++)
		desc.iomap[p / 8] &= (uint8_t) ~(1u << (p % 8));
}

extern const char virtio_trap_stubs[], virtio_timer_isr[],
    virtio_spurious_isr[], virtio_device_isrs[], virtio_ud_isr[];
extern const char __ingot_symtab_start[], __ingot_symtab_end[];
_Noreturn void virtio_trap(const struct virtio_frame *f);

/*
 * Gates for n handlers 16 bytes apart from vector v on, present, DPL 0.
 * From one gate to the next only the offset's low 16 bits change (trap.S
 * aligns each block of stubs to its size), so each costs two stores:
 * every instruction here is emulated on kvm-pvm.
 */
static void set_gates(unsigned v, const void *first, unsigned n, unsigned ist)
{
	uint64_t a = (uintptr_t)first;
	if ((a & 0xffff) + 16 * (n - 1) > 0xffff) {
		static const char msg[] = "interrupt stubs cross 64 KiB";
		ingot_abort(msg, sizeof msg - 1);
	}
	uint64_t lo = (a & 0xffff) | (uint64_t)PVH_SEL_CODE << 16 |
		      (uint64_t)ist << 32 | 0x8eULL << 40 |
		      (a >> 16 & 0xffff) << 48;
	for (struct gate *g = &desc.idt[v]; g < &desc.idt[v + n]; g++) {
		g->lo = lo;
		g->hi = a >> 32;
		lo += 16;
	}
}

void trap_init(uintptr_t ist_top)
{
	uint64_t tss = (uintptr_t)&desc.tss;
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed))
	gdtr = {sizeof desc.gdt - 1, (uintptr_t)desc.gdt},
	idtr = {sizeof desc.idt - 1, (uintptr_t)desc.idt};

	desc.gdt[1] = 0x00af9b000000ffffULL; /* 64-bit code */
	desc.gdt[2] = 0x00cf93000000ffffULL; /* data */
	desc.gdt[5] = 0x00cff3000000ffffULL; /* data, DPL 3 */
	desc.gdt[6] = 0x00affb000000ffffULL; /* 64-bit code, DPL 3 */
	desc.gdt[3] = (sizeof desc.tss + sizeof desc.iomap - 1) |
		      (tss & 0xffffff) << 16 | 0x89ULL << 40 |
		      ((tss >> 24) & 0xff) << 56;
	desc.gdt[4] = tss >> 32;
	/* Every exception on its own stack: a guard page hit must still
	 * have a stack to report on. */
	desc.tss.ist[0] = ist_top;
	/* Interrupts are taken only at CPL 0 (in clock_halt); this is for
	 * form. */
	desc.tss.rsp[0] = ist_top;
	desc.tss.iomap_base = sizeof desc.tss;
	memset(desc.iomap, 0xff, sizeof desc.iomap);
	allow_ports(0x3f8, 8); /* COM1 */
	allow_ports(0xf4, 4);  /* isa-debug-exit */
	allow_ports(0x501, 1); /* its default port */
	allow_ports(0x510, 2); /* fw_cfg: selector, data */
	allow_ports(0x64, 1);  /* i8042 */
	set_gates(0, virtio_trap_stubs, VIRTIO_VECTORS, 1);
	set_gates(VIRTIO_TIMER_VECTOR, virtio_timer_isr, 1, 0);
	set_gates(VIRTIO_DEVICE_VECTOR, virtio_device_isrs,
		  VIRTIO_DEVICE_VECTORS, 0);
	set_gates(VIRTIO_SPURIOUS_VECTOR, virtio_spurious_isr, 1, 0);
	set_gates(6, virtio_ud_isr, 1, 1); /* also the sleep call's (trap.S) */
	__asm__ volatile("lgdt %0\n\t"
			 "lidt %1\n\t"
			 "ltr %w2"
			 :
			 : "m"(gdtr), "m"(idtr), "r"(VIRTIO_SEL_TSS)
			 : "memory");
}

void trap_seal(void)
{
	paging_seal(&desc);
}

static void write_line(void *ctx, const char *line)
{
	(void)ctx;
	serial_puts(line);
	serial_write("\n", 1);
}

static struct ingot_fault fault;

static void backtrace(uint64_t rbp)
{
	uint64_t n = 0;
	while (n < INGOT_FAULT_BACKTRACE_MAX && rbp && rbp % 8 == 0 &&
	       paging_mapped(rbp, 16)) {
		const uint64_t *frame = (const uint64_t *)rbp;
		if (!frame[1])
			break;
		fault.backtrace[n++] = frame[1];
		if (frame[0] <= rbp)
			break; /* callers' frames are above */
		rbp = frame[0];
	}
	fault.nframes = n;
}

void virtio_trap(const struct virtio_frame *f)
{
	static struct elfsym syms;
	static bool reporting;
	uint64_t cr2;

	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	/* A fault while reporting one would start over on the same stack. */
	if (reporting) {
		serial_puts("ingot: a fault while reporting a fault\n");
		virtio_exit_raw(INGOT_EXIT_ABORT);
	}
	reporting = true;
	/* A #GP or #NP whose error code points into the IDT (bit 1): an
	 * interrupt on a vector with no gate, or an int n (whose gates are
	 * all out of reach at CPL 3). */
	if ((f->vector == 13 || f->vector == 11) && (f->error & 2)) {
		char msg[80];
		unsigned v = (unsigned)(f->error >> 3) & 0xff;
		if (f->error & 1)
			snprintf(msg, sizeof msg,
				 "ingot: interrupt on vector %u, which has no "
				 "handler\n",
				 v);
		else
			snprintf(msg, sizeof msg,
				 "ingot: int %u: no gate this code may use\n",
				 v);
		serial_puts(msg);
	}
	fault = (struct ingot_fault){
	    .vector = f->vector,
	    .error_code = f->error,
	    .address = f->vector == 14 ? cr2 : 0,
	    .rip = f->rip,
	    .rsp = f->rsp,
	    .rbp = f->rbp,
	    .rflags = f->rflags,
	    .rax = f->rax,
	    .rbx = f->rbx,
	    .rcx = f->rcx,
	    .rdx = f->rdx,
	    .rsi = f->rsi,
	    .rdi = f->rdi,
	    .r8 = f->r8,
	    .r9 = f->r9,
	    .r10 = f->r10,
	    .r11 = f->r11,
	    .r12 = f->r12,
	    .r13 = f->r13,
	    .r14 = f->r14,
	    .r15 = f->r15,
	};
	if (f->rsp % 8 == 0 && paging_mapped(f->rsp, 8))
		fault.stack_word = *(const uint64_t *)f->rsp;
	backtrace(f->rbp);
	elfsym_init(&syms, __ingot_symtab_start,
		    (size_t)(__ingot_symtab_end - __ingot_symtab_start));
	fault_report(&fault, &syms, "ingot: ", write_line, NULL);
	virtio_exit_raw(INGOT_EXIT_ABORT);
}

/*
 * The kvm target's wire ABI: how an image meets ingot-kvm.  Only
 * platform/kvm and monitor/ include this; applications use abi.h.
 *
 * Threat model.  The image is untrusted, from its first instruction: code
 * that runs before the seal (start-of-day hooks) may be hostile, and code
 * that runs after it may be subverted.  What abi.h promises after the seal
 * (no page both writable and executable, no change to the memory map, no
 * reconfiguring the CPU) must hold against such code.  Hence two rules:
 *
 *  - The guest never writes its page tables or descriptor tables, not even
 *    before the seal.  The monitor builds them in memory the guest can
 *    neither write (read-only KVM slots) nor see (not mapped), and changes
 *    them only on the guest's request through INGOT_KVM_HC_PROTECT, which
 *    it validates (heap pages only; no access, read-only or read-write;
 *    never executable).  The alternative, letting the guest edit its tables
 *    and validating the whole tree at the seal, has to get every corner of
 *    the x86 paging rules right (aliases, large pages, self-references,
 *    tables outside the table area, the descriptor pages) against an
 *    adversary who chooses the tree; a request the monitor carries out has
 *    nothing to validate but a range and a protection.  The cost, one exit
 *    per batch of requests, is paid at start of day only.
 *
 *  - No image code ever runs at CPL 0.  The guest runs at CPL 3 (which
 *    cannot execute lgdt, lidt, ltr, mov to CR3, wrmsr: it cannot
 *    reconfigure the CPU).  The IDT, written by the monitor, sends every
 *    CPU exception to the monitor's own stubs, in a supervisor-only,
 *    read-only page; each stub is one `out` to INGOT_KVM_TRAP_PORT, and the
 *    monitor then reads the registers, the exception frame and the stack
 *    and reports the fault itself.  Every gate has DPL 0, so `int N` from
 *    the guest is a general protection fault, reported the same way.
 *
 * Image.  A static x86_64 ELF executable (ET_EXEC) with a PT_NOTE holding an
 * INGOT_NOTE_ABI note.  Its PT_LOAD segments all have the same distance
 * between virtual and physical address (the "offset", 2 MiB-aligned, so
 * that 2 MiB pages can map the heap), start at physical
 * INGOT_KVM_IMAGE_BASE, come in ascending order, read-only ones first, and
 * none is both writable and executable.  The section ".ingot.manifest" (if
 * present) is an array of struct ingot_manifest_entry.
 *
 * Physical memory, from the bottom: page 0 (never mapped, so a NULL pointer
 * faults); the boot info (struct ingot_kvm_boot and the arguments,
 * read-only to the guest); the descriptor page (GDT, TSS, IDT) and the
 * exception stubs (supervisor-only); then, at INGOT_KVM_IMAGE_BASE, the
 * image: read-only segments in a read-only slot, writable ones in ordinary
 * memory, and after them the heap.  At the top: the exception stack
 * (supervisor-only), a guard page, the boot stack, the page tables (a
 * read-only slot, not mapped).  The table area holds the tables the monitor
 * built and room to split every 2 MiB heap page, so a protection request
 * never fails for lack of tables.
 *
 * Virtual memory.  All of guest physical memory is mapped at physical +
 * offset, each page by the flags of what it holds: image segments by their
 * ELF flags, heap and stacks read-write, nothing but code executable (NX).
 * A write to a read-only slot (the image's code and constants, the boot
 * info, the tables) is an exit the monitor reports; a write to a read-only
 * page is a page fault.  Protection requests take effect at the latest at
 * the seal, which flushes every cached translation.
 *
 * Privilege.  The guest runs at CPL 3 with IOPL 3.  On kvm-pvm hosts (nested
 * KVM in software, where CPL 0 code is emulated instruction by instruction,
 * about 1000 times slower than CPL 3) the host forces IOPL 0 and checks the
 * TSS's I/O permission bitmap, which opens only the hypercall ports; QEMU's
 * emulated CPU (tools/kvmvm) rejects the busy TSS that VMX requires when it
 * checks the bitmap, so IOPL 3 lets hypercalls through there.  Either way
 * the monitor refuses every port but the hypercalls', and the trap port
 * from anywhere but its stubs at CPL 0.  syscall is invalid (EFER.SCE is
 * off, so the CPU raises #UD); where a host runs it anyway (kvm-pvm does),
 * it lands on the monitor's syscall stub (LSTAR), reported the same way.
 *
 * Entry.  64-bit long mode, paging on, interrupts off, CPL 3, IOPL 3, flat
 * segments, rsp = the top of the boot stack, rdi = virtual address of the
 * struct ingot_kvm_boot, rip = e_entry.
 *
 * Hypercalls.  `outl %eax, %dx` with dx = INGOT_KVM_HC_BASE + nr and eax the
 * *physical* address of the call's argument struct (virtual - offset; the
 * struct must lie below 4 GiB, which is why --mem is at most 4 GiB).  The
 * monitor checks every address and length it is given: a range outside guest
 * memory, or an output buffer outside the guest's writable memory (image
 * data, heap, boot stack), stops the guest with INGOT_EXIT_STOPPED.
 * Pointers inside argument structs are guest-virtual.
 */
#ifndef INGOT_ABI_KVM_H
#define INGOT_ABI_KVM_H

#include <ingot/abi.h>

/* The PT_NOTE identifying an ingot image and its target. */
#define INGOT_NOTE_NAME     "ingot"
#define INGOT_NOTE_ABI      1 /* desc: struct ingot_note_abi */
#define INGOT_TARGET_KVM    1
#define INGOT_TARGET_HOSTED 2
#define INGOT_TARGET_VIRTIO 3 /* platform/virtio: stock QEMU by PVH */

/* Guest physical layout (the top of memory is laid out by the monitor and
 * is not part of the ABI). */
#define INGOT_KVM_BOOT_BASE  0x1000UL /* struct ingot_kvm_boot, argv */
#define INGOT_KVM_BOOT_SIZE  0x2000UL
#define INGOT_KVM_GDT_BASE   0x3000UL /* GDT, then the TSS, then the IDT */
#define INGOT_KVM_STUBS_BASE 0x4000UL /* the exception stubs */
#define INGOT_KVM_IMAGE_BASE 0x8000UL
#define INGOT_KVM_MEM_MIN    (1UL << 20)
#define INGOT_KVM_MEM_MAX    (4UL << 30)

/* GDT selectors the monitor installs. */
#define INGOT_KVM_SEL_KERNEL_CODE 0x08
#define INGOT_KVM_SEL_KERNEL_DATA 0x10
#define INGOT_KVM_SEL_USER_CODE   0x1b
#define INGOT_KVM_SEL_USER_DATA   0x23
#define INGOT_KVM_SEL_TSS         0x28

/* Hypercall numbers (enum ingot_kvm_hc): the port is INGOT_KVM_HC_BASE + nr.
 * The I/O bitmap opens INGOT_KVM_HC_PORTS ports, plus the three after them
 * so that a 4-byte access to the last one passes the CPU's check. */
#define INGOT_KVM_HC_BASE  0x500
#define INGOT_KVM_HC_PORTS 64 /* calls to come fit here */

/* The port the monitor's exception stubs use (`out %al, $port`); vector v's
 * stub is INGOT_KVM_STUB_SIZE bytes at INGOT_KVM_STUBS_BASE + v * that,
 * for the 32 CPU exception vectors, then the syscall stub. */
#define INGOT_KVM_TRAP_PORT    0xe9
#define INGOT_KVM_STUB_SIZE    8
#define INGOT_KVM_VECTORS      32
#define INGOT_KVM_STUB_SYSCALL 32

#ifndef __ASSEMBLY__
#include <stdint.h>

struct ingot_note_abi {
	uint32_t abi_version; /* INGOT_ABI_VERSION */
	uint32_t target;      /* INGOT_TARGET_* */
};

/*
 * What the monitor hands the guest at entry (in rdi).  Everything here is
 * read-only to the guest.  The public part is what ingot_boot_info() returns.
 */
struct ingot_kvm_boot {
	struct ingot_boot_info info;
	uint64_t offset;      /* virtual - physical, for hypercall arguments */
	uint64_t tsc_hz;      /* TSC ticks per second */
	uint64_t tsc_at_boot; /* guest TSC when monotonic time was 0 */
	uint64_t
	    wall_at_boot_ns; /* wall-clock time when monotonic time was 0 */
	uintptr_t stack_top; /* boot stack, with a guard page below it */
};

enum ingot_kvm_hc {
	INGOT_KVM_HC_CONSOLE = 0,    /* struct ingot_kvm_console */
	INGOT_KVM_HC_POLL = 1,       /* struct ingot_kvm_poll */
	INGOT_KVM_HC_SEAL = 2,       /* struct ingot_kvm_protect_batch */
	INGOT_KVM_HC_EXIT = 3,       /* struct ingot_kvm_exit */
	INGOT_KVM_HC_ABORT = 4,      /* struct ingot_kvm_console: the message */
	INGOT_KVM_HC_PROTECT = 5,    /* struct ingot_kvm_protect_batch */
	INGOT_KVM_HC_NET_ATTACH = 6, /* struct ingot_kvm_net_attach */
	INGOT_KVM_HC_BLOCK_ATTACH = 7, /* struct ingot_kvm_block_attach */
	INGOT_KVM_HC_COUNT
};

struct ingot_kvm_console {
	uint64_t buf; /* guest-virtual */
	uint64_t len;
};

struct ingot_kvm_poll {
	uint64_t deadline_ns; /* in: monotonic */
	uint64_t ready_set;   /* out */
	uint64_t now_ns;      /* out: monotonic */
	uint64_t wake_set;    /* in: ingot_poll_for's (0: every device) */
};

struct ingot_kvm_exit {
	uint64_t status;
};

/*
 * Protection requests (ingot_mem_protect), carried out by the monitor in
 * order.  PROTECT takes a batch before the seal; SEAL takes the last one
 * (possibly empty) and then seals.  Each range must be page-aligned, inside
 * the heap, with prot an enum ingot_prot: anything else stops the guest
 * (the platform checks first, so only a hostile image gets there).
 * PROTECT after the seal stops the guest too.
 */
#define INGOT_KVM_PROTECT_BATCH_MAX 64
struct ingot_kvm_protect {
	uint64_t addr; /* guest-virtual */
	uint64_t len;
	uint64_t prot;
};
struct ingot_kvm_protect_batch {
	uint64_t ranges; /* guest-virtual array of struct ingot_kvm_protect */
	uint64_t count;  /* at most INGOT_KVM_PROTECT_BATCH_MAX */
};

struct ingot_kvm_net_attach {
	uint64_t handle;
	uint64_t tx, rx; /* guest-virtual struct ingot_net_ring */
	int64_t result;  /* out: ingot_net_attach()'s */
};

struct ingot_kvm_block_attach {
	uint64_t handle;
	uint64_t ring;  /* guest-virtual struct ingot_block_ring */
	int64_t result; /* out: ingot_block_attach()'s */
};

/*
 * A CPU exception in the guest, as the host reports it (with symbol names
 * from the image file) before it ends the guest with INGOT_EXIT_ABORT.
 * Gathered by the monitor on kvm, by the signal handler on hosted.
 */
#define INGOT_FAULT_BACKTRACE_MAX 16
struct ingot_fault {
	uint64_t vector;     /* x86 exception vector, or a signal on hosted */
	uint64_t error_code; /* as pushed by the CPU; 0 where there is none */
	uint64_t address;    /* CR2 for a page fault, else 0 */
	uint64_t rip, rsp, rbp, rflags;
	uint64_t rax, rbx, rcx, rdx, rsi, rdi;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t stack_word; /* the word at rsp, 0 if unreadable: the return
				address when the fault hit before a frame */
	uint64_t nframes;
	uint64_t backtrace[INGOT_FAULT_BACKTRACE_MAX]; /* return addresses */
};

#endif /* __ASSEMBLY__ */
#endif

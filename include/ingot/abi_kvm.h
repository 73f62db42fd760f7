/*
 * The kvm target's wire ABI: how an image meets ingot-kvm.  Only
 * platform/kvm and monitor/ include this; applications use abi.h.
 *
 * Image.  A static x86_64 ELF executable (ET_EXEC) with a PT_NOTE holding an
 * INGOT_NOTE_ABI note.  Its PT_LOAD segments all have the same distance
 * between virtual and physical address (the "offset", 2 MiB-aligned), start
 * at physical INGOT_KVM_IMAGE_BASE, come in ascending order, read-only ones
 * first, and none is both writable and executable.  The section
 * ".ingot.manifest" (if present) is an array of struct ingot_manifest_entry.
 *
 * Physical memory.  [0, INGOT_KVM_IMAGE_BASE) is the monitor's: boot info,
 * GDT and TSS, page tables and a pool of spare page-table pages.  Then the
 * image: read-only segments live in a read-only memory slot (a write is an
 * exit the monitor reports), writable ones in ordinary memory, and after them
 * everything up to mem_size is ordinary memory (the heap).
 *
 * Virtual memory.  All of guest physical memory is mapped at physical +
 * offset, except page 0 (never mapped, so a NULL pointer faults).  Each page
 * is mapped by the flags of what it holds: image segments by their ELF flags,
 * the boot info read-only, the page tables read-write, everything else
 * read-write; nothing but code is executable (NX).  All of it is user
 * memory but the GDT, TSS and IDT page, which only the CPU reads.  The guest
 * may edit its page tables (mapped at INGOT_KVM_PT_BASE + offset) until it
 * seals; the edits take effect at the latest at the seal, when the monitor
 * moves [0, INGOT_KVM_IMAGE_BASE) into a read-only slot and loads CR3 with
 * a copy of the top-level table (flushing the TLB: invlpg is privileged).
 *
 * Privilege.  The guest runs at CPL 3.  The TSS's I/O permission bitmap
 * opens the hypercall ports (INGOT_KVM_HC_BASE, INGOT_KVM_HC_PORTS of
 * them) where the host honours it (kvm-pvm); elsewhere IOPL 3 allows port
 * I/O, and the monitor refuses every port but the hypercalls'.  The guest
 * cannot execute a privileged instruction (lidt,
 * mov to CR3, wrmsr), so even before the seal it cannot reconfigure the
 * CPU.  Only the CPU-exception handlers run at CPL 0; no
 * gate can be raised from CPL 3.  (A further reason: on kvm-pvm hosts,
 * nested KVM in software, CPL 0 code is emulated instruction by
 * instruction, about 1000 times slower; CPL 3 code runs natively.)
 * The monitor builds the IDT from the image's INGOT_NOTE_KVM_TRAPS note:
 * the address of a table of INGOT_KVM_TRAP_ENTRIES entry points, all in
 * executable segments: one per exception vector, then the syscall entry.
 * syscall is invalid (EFER.SCE is off, so the CPU raises #UD); where a
 * host runs it anyway (kvm-pvm does), it lands on the syscall entry (the
 * monitor sets LSTAR to it), which reports it the same way.
 *
 * Entry.  64-bit long mode, paging on, interrupts off, CPL 3, IOPL 0, flat
 * segments, rsp = the top of the boot stack, rdi = virtual address of the
 * struct ingot_kvm_boot, rip = e_entry.
 *
 * Hypercalls.  `outl %eax, %dx` with dx = INGOT_KVM_HC_BASE + nr and eax the
 * *physical* address of the call's argument struct (virtual - offset; the
 * struct must lie below 4 GiB, which is why --mem is at most 4 GiB).  The
 * monitor checks every address and length it is given: a range outside guest
 * memory, or an output buffer outside the guest's writable memory, stops the
 * guest with INGOT_EXIT_STOPPED.  Pointers inside argument structs are
 * guest-virtual.
 */
#ifndef INGOT_ABI_KVM_H
#define INGOT_ABI_KVM_H

#include <ingot/abi.h>

/* The PT_NOTE identifying an ingot image and its target. */
#define INGOT_NOTE_NAME "ingot"
#define INGOT_NOTE_ABI 1 /* desc: struct ingot_note_abi */
#define INGOT_NOTE_KVM_TRAPS 2 /* desc: uint64_t, virtual address of the
				  table of INGOT_KVM_TRAP_ENTRIES entry
				  points */
#define INGOT_TARGET_KVM 1
#define INGOT_TARGET_HOSTED 2

/* Guest physical layout. */
#define INGOT_KVM_BOOT_BASE 0x1000UL  /* struct ingot_kvm_boot, argv */
#define INGOT_KVM_BOOT_SIZE 0x2000UL
#define INGOT_KVM_GDT_BASE 0x3000UL  /* GDT, then the TSS, then the IDT */
#define INGOT_KVM_PT_BASE 0x10000UL  /* page tables, the PML4 copy for the
					seal, then the spare pool */
#define INGOT_KVM_IMAGE_BASE 0x200000UL
#define INGOT_KVM_MEM_MIN (4UL << 20)
#define INGOT_KVM_MEM_MAX (4UL << 30)

/* GDT selectors the monitor installs. */
#define INGOT_KVM_SEL_KERNEL_CODE 0x08
#define INGOT_KVM_SEL_KERNEL_DATA 0x10
#define INGOT_KVM_SEL_USER_CODE 0x1b
#define INGOT_KVM_SEL_USER_DATA 0x23
#define INGOT_KVM_SEL_TSS 0x28

/* IDT vectors: the CPU exceptions, each to its trap-table entry on the
 * TSS's IST1 stack. */
#define INGOT_KVM_VECTORS 32
#define INGOT_KVM_TRAP_SYSCALL 32 /* the syscall entry's index */
#define INGOT_KVM_TRAP_ENTRIES 33

/* Hypercall numbers (enum ingot_kvm_hc): the port is INGOT_KVM_HC_BASE + nr. */
#define INGOT_KVM_HC_BASE 0x500
#define INGOT_KVM_HC_PORTS 64 /* open to the guest; calls to come fit here */

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
	uint64_t offset;	  /* virtual - physical, for hypercall arguments */
	uint64_t tsc_hz;	  /* TSC ticks per second */
	uint64_t tsc_at_boot;	  /* guest TSC when monotonic time was 0 */
	uint64_t wall_at_boot_ns; /* wall-clock time when monotonic time was 0 */
	uintptr_t pt_pool_start;  /* virtual; spare page-table pages */
	uintptr_t pt_pool_end;
	uintptr_t stack_top;	  /* boot stack, with a guard page below it */
	uintptr_t ist_stack_top;  /* the CPU-exception stack (TSS IST1) */
};

enum ingot_kvm_hc {
	INGOT_KVM_HC_CONSOLE = 0, /* struct ingot_kvm_console */
	INGOT_KVM_HC_POLL = 1,	  /* struct ingot_kvm_poll */
	INGOT_KVM_HC_SEAL = 2,	  /* no argument */
	INGOT_KVM_HC_EXIT = 3,	  /* struct ingot_kvm_exit */
	INGOT_KVM_HC_ABORT = 4,	  /* struct ingot_kvm_console: the message */
	INGOT_KVM_HC_FAULT = 5,	  /* struct ingot_fault */
	INGOT_KVM_HC_NET_ATTACH = 6, /* struct ingot_kvm_net_attach */
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
};

struct ingot_kvm_exit {
	uint64_t status;
};

struct ingot_kvm_net_attach {
	uint64_t handle;
	uint64_t tx, rx; /* guest-virtual struct ingot_net_ring */
	int64_t result;	 /* out: ingot_net_attach()'s */
};

/*
 * A CPU exception the guest could not handle, for the host to report (with
 * symbol names from the image file) before it ends the guest with
 * INGOT_EXIT_ABORT.  Shared by every target.
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

/*
 * The PVH entry (xen's docs/misc/pvh.pandoc): 32-bit protected mode, paging
 * off, ebx = physical address of struct hvm_start_info.  This code runs
 * where it is linked (tools/ldgen.c gives it a segment at its physical
 * address); it maps the first GiB of physical memory both where it is and
 * at the image's offset (1 GiB-aligned), enters long mode and jumps to
 * virtio_boot in the image proper.  Nothing here writes a stack: the
 * firmware's state is unknown.
 */
#include "virtio_asm.h"

#define MSR_EFER   0xc0000080
#define EFER_LME   (1 << 8)
#define EFER_NXE   (1 << 11)
#define CR0_PG_WP  0x80010000
#define CR4_PAE    (1 << 5)
#define PTE_PRESENT_RW 3
#define PDE_LARGE      0x83

	.section .pvh.text, "ax"
	.code32
	.globl pvh_start32
	.type pvh_start32, @function
pvh_start32:
	cli
	cld
	movl %ebx, %esi			/* the start info, for virtio_boot */
	lgdt pvh_gdt_desc
	movl $PVH_SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss

	/* Long mode is required; NX is used if present (C checks its
	 * absence, from the same cpuid, passed on). */
	movl $0x80000001, %eax
	cpuid
	testl $(1 << 29), %edx
	jz pvh_halt
	movl %edx, %ebp

	/* The tables are the link's (below); only the entries that depend
	 * on the image's offset are written here.  The identity half is
	 * already in place: PML4[0] -> pvh_pdpt_lo, whose [0] -> pvh_pd.  The
	 * offset's PML4 entry is [0] too when the offset is below 512 GiB. */
	movl pvh_offset + 4, %edx		/* offset bits 32..63 */
	movl %edx, %ecx
	shrl $7, %ecx
	andl $511, %ecx				/* PML4 index */
	movl pvh_offset, %ebx
	shrl $30, %ebx
	andl $0x7f, %edx
	shll $2, %edx
	orl %edx, %ebx				/* PDPT index */
	movl $pvh_pdpt_lo, %edx
	testl %ecx, %ecx
	jz 2f
	movl $pvh_pdpt_hi, %edx
	movl $(pvh_pdpt_hi + PTE_PRESENT_RW), pvh_pml4(, %ecx, 8)
2:	movl $(pvh_pd + PTE_PRESENT_RW), (%edx, %ebx, 8)

	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $pvh_pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	testl $(1 << 20), %ebp
	jz 3f
	orl $EFER_NXE, %eax
3:	wrmsr
	movl %cr0, %eax
	orl $CR0_PG_WP, %eax
	movl %eax, %cr0
	ljmp $PVH_SEL_CODE, $pvh_start64

pvh_halt:
	hlt
	jmp pvh_halt
	.size pvh_start32, . - pvh_start32

	.code64
pvh_start64:
	movl $PVH_SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movq pvh_boot_stack_va, %rsp
	movl %esi, %edi			/* zero-extends: the start info */
	movl %ebp, %esi			/* cpuid 0x80000001's edx */
	xorl %ebp, %ebp			/* the outermost frame, for backtraces */
	movq pvh_boot_va, %rax
	call *%rax
	ud2

	.balign 8
/* Virtual addresses, resolved by the link: the entry reads only their low
 * halves before paging, where physical = virtual - offset fits 32 bits. */
pvh_offset:		.quad __ingot_offset
pvh_boot_stack_va:	.quad virtio_early_stack + VIRTIO_EARLY_STACK
pvh_boot_va:		.quad virtio_boot

/* A flat code and data segment, accessed bits preset so the CPU never
 * writes them; virtio_boot loads the image's own GDT. */
	.balign 8
pvh_gdt:
	.quad 0
	.quad 0x00af9b000000ffff	/* 0x08: 64-bit code */
	.quad 0x00cf93000000ffff	/* 0x10: data */
	.quad 0x00cf9b000000ffff	/* 0x18: 32-bit code, unused */
pvh_gdt_desc:
	.word . - pvh_gdt - 1
	.long pvh_gdt

/*
 * The early tables, initialised by the link so that nothing here zeroes
 * or fills them (on kvm-pvm each instruction at CPL 0 is emulated: filling
 * 512 entries took 1.7 ms, zeroing the four pages 1.4 ms).  The page
 * directory maps physical 0..1 GiB in 2 MiB pages; it serves both the
 * identity map and the image's offset.  Used only until paging_init loads
 * the image's own tables, which do not map this segment.
 */
	.section .pvh.data, "aw"
	.balign 4096
pvh_pml4:
	.quad pvh_pdpt_lo + PTE_PRESENT_RW
	.fill 511, 8, 0
pvh_pdpt_lo:
	.quad pvh_pd + PTE_PRESENT_RW
	.fill 511, 8, 0
pvh_pdpt_hi:
	.fill 512, 8, 0
pvh_pd:
	.set pde, 0
	.rept 512
	.quad (pde << 21) + PDE_LARGE
	.set pde, pde + 1
	.endr

	/* QEMU's -kernel and Firecracker look for this note to boot an ELF
	 * by PVH; its value is the physical address of the 32-bit entry. */
	.section .note.xen, "a"
	.balign 4
	.long 4				/* sizeof "Xen" */
	.long 8
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.balign 4
	.quad pvh_start32

	/* Identifies the file as an ingot image for the virtio target. */
	.section .note.ingot, "a"
	.balign 4
	.long 6
	.long 8
	.long INGOT_NOTE_ABI
	.asciz "ingot"
	.balign 4
	.long INGOT_ABI_VERSION
	.long INGOT_TARGET_VIRTIO

	/* The ELF entry point is never used (the note is), but the link
	 * wants one. */
	.section .text._start, "ax"
	.globl _start
	.type _start, @function
_start:
	ud2
	.size _start, . - _start

	.section .note.GNU-stack, "", @progbits

/*
 * Guest memory on the hosted target: the image, the heap (less the pages
 * the guest made inaccessible) and the live part of the process stack with
 * the arguments above it.
 * The host side checks every address the guest hands it against these, as
 * ingot-kvm does against the VM's memory, so that a bad one stops the guest
 * with a message (abi.h) rather than crashing the host code that uses it.
 */
#include <errno.h>
#include <ingot/abi_kvm.h>

#include "../common/boot.h"
#include "hosted.h"

/* From the linker script (tools/ldgen.c, the same layout for both
 * targets): the image starts at the offset plus INGOT_KVM_IMAGE_BASE and
 * ends at __image_end; its writable segment starts at the first page after
 * its notes, the last of its read-only data (start.S: hosted_note_end). */
extern const char __ingot_offset[], __image_end[], hosted_note_end[];

/* Pages the guest made inaccessible (guard pages). */
#define NOACCESS_MAX 512
static struct {
	uintptr_t start, end;
} noaccess[NOACCESS_MAX];
static unsigned nnoaccess;
static bool noaccess_overflow;

static void note_noaccess(uintptr_t a, size_t len, bool none)
{
	/* Remove the range, then add it back if it is now inaccessible. */
	for (unsigned i = 0; i < nnoaccess; i++)
		if (noaccess[i].start < a + len && a < noaccess[i].end) {
			noaccess[i] = noaccess[--nnoaccess];
			i--;
		}
	if (!none)
		return;
	if (nnoaccess == NOACCESS_MAX) {
		noaccess_overflow = true;
		return;
	}
	noaccess[nnoaccess].start = a;
	noaccess[nnoaccess++].end = a + len;
}

int ingot_mem_protect(void *addr, size_t len, enum ingot_prot prot)
{
	uintptr_t a = (uintptr_t)addr;
	int p;

	if (hosted.sealed)
		return -EPERM;
	if (!boot_protect_ok(a, len, prot))
		return -EINVAL;
	switch (prot) {
	case INGOT_PROT_NONE:
		p = PROT_NONE;
		break;
	case INGOT_PROT_READ:
		p = PROT_READ;
		break;
	case INGOT_PROT_RW:
		p = PROT_READ | PROT_WRITE;
		break;
	default:
		return -EINVAL;
	}
	long rc = syscall3(SYS_mprotect, a, len, p);
	if (rc < 0)
		return (int)rc;
	note_noaccess(a, len, prot == INGOT_PROT_NONE);
	return 0;
}

static bool inside(uint64_t va, uint64_t len, uintptr_t start, uintptr_t end)
{
	return va >= start && va <= end && len <= end - va;
}

/* Whether [va, va + len) is in the heap and clear of its inaccessible
 * pages; past NOACCESS_MAX of them, unknown is the answer given. */
static bool in_heap(uint64_t va, uint64_t len, bool unknown)
{
	const struct ingot_boot_info *bi = &hosted.info;
	if (!inside(va, len, bi->heap_start, bi->heap_start + bi->heap_size))
		return false;
	if (noaccess_overflow)
		return unknown;
	for (unsigned i = 0; i < nnoaccess; i++)
		if (va < noaccess[i].end && va + len > noaccess[i].start)
			return false;
	return true;
}

void *hosted_guest_ptr(uint64_t va, uint64_t len, bool writable)
{
	uintptr_t image = (uintptr_t)__ingot_offset + INGOT_KVM_IMAGE_BASE;
	uintptr_t data = ((uintptr_t)hosted_note_end + INGOT_PAGE_SIZE - 1) &
			 ~(uintptr_t)(INGOT_PAGE_SIZE - 1);
	/* The stack below this frame is not the guest's yet. */
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);

	/* Refusing the whole heap would stop any guest with many guard
	 * pages; a guard page among them is then found by the kernel or
	 * faults in the host code, still in the guest's process. */
	if (in_heap(va, len, true) ||
	    inside(va, len, writable ? data : image, (uintptr_t)__image_end) ||
	    inside(va, len, sp, hosted.stack_end))
		return (void *)(uintptr_t)va;
	return NULL;
}

bool hosted_readable(uintptr_t addr)
{
	const struct ingot_boot_info *bi = &hosted.info;
	/* The process stack: at most 8 MiB below where it started. */
	if (!inside(addr, 16, bi->heap_start, bi->heap_start + bi->heap_size))
		return addr < hosted.stack_top &&
		       addr + (8UL << 20) >= hosted.stack_top;
	return in_heap(addr, 16, false); /* a backtrace must never fault */
}

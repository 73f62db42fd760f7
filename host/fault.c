/* The text of a guest fault report, the same on every target. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "fault.h"

const char *fault_vector_name(uint64_t vector)
{
	static const char *const names[] = {
	    [0] = "divide error",
	    [1] = "debug exception",
	    [2] = "non-maskable interrupt",
	    [3] = "breakpoint",
	    [4] = "overflow",
	    [5] = "bound range exceeded",
	    [6] = "invalid opcode",
	    [7] = "device not available",
	    [8] = "double fault",
	    [10] = "invalid TSS",
	    [11] = "segment not present",
	    [12] = "stack-segment fault",
	    [13] = "general protection fault",
	    [14] = "page fault",
	    [16] = "x87 floating-point error",
	    [17] = "alignment check",
	    [18] = "machine check",
	    [19] = "SIMD floating-point error",
	    [21] = "control protection fault",
	};
	if (vector < sizeof names / sizeof names[0] && names[vector])
		return names[vector];
	return "unknown exception";
}

/* Why a page fault's access failed, from its error code. */
static const char *page_fault_cause(uint64_t err)
{
	if ((err & 1) && (err & 8))
		return "a reserved bit is set in its page table";
	if ((err & 0x10) && (err & 1))
		return "the page is not executable";
	if (err & 1)
		return "the page is read-only";
	return "the page is not mapped";
}

/*
 * "0x... <function+0x...>".  A return address points after its call, which
 * may be the last instruction of the function: look up the byte before.
 */
static void symbolize(const struct elfsym *syms, uint64_t addr,
		      bool return_address, char *buf, size_t size)
{
	uint64_t off = 0, at = return_address ? addr - 1 : addr;
	const char *name = syms ? elfsym_lookup(syms, at, &off) : NULL;
	char clean[128];
	size_t n = 0;

	/* The image could name a function with terminal escapes. */
	for (; name && name[n] && n < sizeof clean - 1; n++)
		clean[n] = name[n] >= 0x20 && name[n] < 0x7f ? name[n] : '?';
	clean[n] = '\0';
	if (name)
		snprintf(buf, size, "0x%lx <%s+0x%lx>", (unsigned long)addr,
			 clean, (unsigned long)(off + (addr - at)));
	else
		snprintf(buf, size, "0x%lx", (unsigned long)addr);
}

void fault_report(const struct ingot_fault *f, const struct elfsym *syms,
		  const char *prefix, void (*out)(void *ctx, const char *line),
		  void *ctx)
{
	char line[256], where[160];

	symbolize(syms, f->rip, false, where, sizeof where);
	snprintf(line, sizeof line, "%sguest fault: %s (vector %lu) at %s",
		 prefix, fault_vector_name(f->vector), (unsigned long)f->vector,
		 where);
	out(ctx, line);
	if (f->vector == 14) {
		snprintf(line, sizeof line, "%s  %s address 0x%lx: %s", prefix,
			 (f->error_code & 0x10) ? "executing"
			 : (f->error_code & 2)  ? "writing"
						: "reading",
			 (unsigned long)f->address,
			 page_fault_cause(f->error_code));
		out(ctx, line);
		/* Just below the stack pointer: a guard page was hit. */
		if (f->address < f->rsp + 4096 && f->address + 65536 > f->rsp) {
			snprintf(line, sizeof line,
				 "%s  the stack pointer is 0x%lx: a stack "
				 "overflow",
				 prefix, (unsigned long)f->rsp);
			out(ctx, line);
		}
	} else if (f->error_code) {
		snprintf(line, sizeof line, "%s  error code 0x%lx", prefix,
			 (unsigned long)f->error_code);
		out(ctx, line);
	}

	const struct {
		const char *name;
		uint64_t v;
	} regs[] = {
	    {"rax", f->rax}, {"rbx", f->rbx}, {"rcx", f->rcx}, {"rdx", f->rdx},
	    {"rsi", f->rsi}, {"rdi", f->rdi}, {"rbp", f->rbp}, {"rsp", f->rsp},
	    {"r8", f->r8},   {"r9", f->r9},   {"r10", f->r10}, {"r11", f->r11},
	    {"r12", f->r12}, {"r13", f->r13}, {"r14", f->r14}, {"r15", f->r15},
	};
	for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i += 4) {
		snprintf(
		    line, sizeof line,
		    "%s  %-3s %016lx  %-3s %016lx  %-3s %016lx  %-3s %016lx",
		    prefix, regs[i].name, (unsigned long)regs[i].v,
		    regs[i + 1].name, (unsigned long)regs[i + 1].v,
		    regs[i + 2].name, (unsigned long)regs[i + 2].v,
		    regs[i + 3].name, (unsigned long)regs[i + 3].v);
		out(ctx, line);
	}
	snprintf(line, sizeof line, "%s  rip %016lx  rflags %08lx", prefix,
		 (unsigned long)f->rip, (unsigned long)f->rflags);
	out(ctx, line);

	uint64_t n = f->nframes;
	if (n > INGOT_FAULT_BACKTRACE_MAX)
		n = INGOT_FAULT_BACKTRACE_MAX;
	snprintf(line, sizeof line, "%sbacktrace:", prefix);
	out(ctx, line);
	symbolize(syms, f->rip, false, where, sizeof where);
	snprintf(line, sizeof line, "%s  #0 %s", prefix, where);
	out(ctx, line);
	/* Outside any function (a jump into data) or on a function's first
	 * instruction, the caller's frame is not linked yet: its return
	 * address is the word on top of the stack. */
	uint64_t off, depth = 1;
	const char *fn = syms ? elfsym_lookup(syms, f->rip, &off) : NULL;
	if ((!fn || off == 0) && f->stack_word) {
		symbolize(syms, f->stack_word, true, where, sizeof where);
		snprintf(line, sizeof line, "%s  #%lu %s (from the stack)",
			 prefix, (unsigned long)depth++, where);
		out(ctx, line);
	}
	for (uint64_t i = 0; i < n; i++) {
		symbolize(syms, f->backtrace[i], true, where, sizeof where);
		snprintf(line, sizeof line, "%s  #%lu %s", prefix,
			 (unsigned long)depth++, where);
		out(ctx, line);
	}
}

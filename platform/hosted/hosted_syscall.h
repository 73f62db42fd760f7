/*
 * The kernel ABI only the hosted platform needs, beyond what the host side
 * uses (host/sys.h): memory maps, the seal, and signal frames.  Layouts are
 * the x86_64 kernel's (not glibc's).
 */
#ifndef HOSTED_SYSCALL_H
#define HOSTED_SYSCALL_H

#include <stddef.h>
#include <stdint.h>

#include "../../host/sys.h"

#define PROT_NONE               0
#define PROT_READ               1
#define PROT_WRITE              2
#define MAP_PRIVATE             0x02
#define MAP_ANONYMOUS           0x20
#define MAP_NORESERVE           0x4000
#define PR_SET_NO_NEW_PRIVS     38
#define SECCOMP_SET_MODE_FILTER 1

#define SIGILL     4
#define SIGTRAP    5
#define SIGBUS     7
#define SIGFPE     8
#define SIGSEGV    11
#define SIGSYS     31
#define BUS_ADRALN 1

struct kernel_stack {
	void *sp;
	int flags;
	uint64_t size;
};

struct kernel_siginfo {
	int signo, errno_, code, pad;
	union {
		void *addr; /* SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP */
		struct {
			void *call_addr; /* SIGSYS */
			int syscall;
			unsigned arch;
		} sys;
	} u;
};

/* The general registers in a signal frame's ucontext, by index. */
enum {
	REG_R8,
	REG_R9,
	REG_R10,
	REG_R11,
	REG_R12,
	REG_R13,
	REG_R14,
	REG_R15,
	REG_RDI,
	REG_RSI,
	REG_RBP,
	REG_RBX,
	REG_RDX,
	REG_RAX,
	REG_RCX,
	REG_RSP,
	REG_RIP,
	REG_EFL,
	REG_CSGSFS,
	REG_ERR,
	REG_TRAPNO,
	REG_OLDMASK,
	REG_CR2,
	NGREG
};

struct kernel_ucontext {
	unsigned long flags;
	struct kernel_ucontext *link;
	struct kernel_stack stack;
	uint64_t gregs[NGREG];
};

/* The BPF program seccomp takes. */
struct sock_filter {
	uint16_t code;
	uint8_t jt, jf;
	uint32_t k;
};
struct sock_fprog {
	unsigned short len;
	const struct sock_filter *filter;
};

#endif

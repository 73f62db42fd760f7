/* platform/hosted internals. */
#ifndef PLATFORM_HOSTED_H
#define PLATFORM_HOSTED_H

#include <ingot/abi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/fault.h"
#include "hosted_syscall.h"

struct hosted {
	struct ingot_boot_info info;
	uint64_t mono_at_boot;
	uintptr_t stack_top; /* the process stack, for backtraces */
	struct elfsym syms;  /* of /proc/self/exe, mapped before the seal */
	bool sealed;
};

extern struct hosted hosted;

/* The BPF allowlist generated at build time (tools/seccomp_gen.c). */
extern const struct sock_filter hosted_seccomp_filter[];
extern const unsigned short hosted_seccomp_len;

/* hosted_calls.c */
uint64_t hosted_clock(int clock);
/* Whether [addr, addr + 16) may be read without faulting. */
bool hosted_readable(uintptr_t addr);

/* hosted_start.c: text to standard error. */
void hosted_say(const char *s);

/* hosted_net.c: network devices (--net). */
const char *hosted_net_option(const char *spec); /* NULL or an error */
void hosted_net_setup(void);
uint64_t hosted_net_service(void); /* the devices with news, one bit each */
unsigned hosted_net_pollfds(struct kernel_pollfd *fds);

/* hosted_signal.c: reports faults and forbidden system calls. */
void hosted_signals_init(void);
uint64_t hosted_requests_take(void); /* INGOT_READY_STOP / _REPORT bits */

#endif

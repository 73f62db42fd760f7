/*
 * The host's messages to the operator (standard error), the same on every
 * target: "PREFIX: text", one line, one write (so threads do not
 * interleave), and only printable ASCII: text from an image (symbol names,
 * device names) must not reach a terminal as escape sequences.
 */
#ifndef HOST_MSG_H
#define HOST_MSG_H

#include <stdarg.h>

/* "ingot-kvm" or "ingot": starts every message. */
void host_msg_init(const char *prefix);

void host_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void host_vmsg(const char *fmt, va_list ap);

/* The host could not start the guest: INGOT_EXIT_SETUP. */
_Noreturn void host_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
_Noreturn void host_vfail(const char *fmt, va_list ap);

/* The guest broke the ABI and is stopped: INGOT_EXIT_STOPPED. */
_Noreturn void host_stop(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
_Noreturn void host_vstop(const char *fmt, va_list ap);

#endif

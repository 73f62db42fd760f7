/*
 * The operator's requests, by signal, the same on every target: SIGTERM or
 * SIGINT asks the guest to stop (a second one ends the process at once),
 * SIGUSR1 asks it for a report.  They reach the guest as INGOT_READY_STOP
 * and INGOT_READY_REPORT in the ready set of its next ingot_poll().
 */
#ifndef HOST_REQUESTS_H
#define HOST_REQUESTS_H

#include <stdint.h>

/* Installs the handlers, and ignores SIGPIPE (see console.h). */
void host_requests_init(void);

/* INGOT_READY_STOP / _REPORT bits, each request reported once. */
uint64_t host_requests_take(void);

/* Blocks the request signals in the calling thread; returns the old mask
 * (for host_requests_restore, or for ppoll to unblock them while it
 * sleeps). */
uint64_t host_requests_block(void);
void host_requests_restore(uint64_t old);

#endif

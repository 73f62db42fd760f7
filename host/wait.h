/*
 * ingot_poll() on the host side, the same on every target: serve the
 * devices, take the operator's requests, and sleep until one of them has
 * news or the deadline.
 */
#ifndef HOST_WAIT_H
#define HOST_WAIT_H

#include <stdint.h>

/* CLOCK_MONOTONIC in ns.  Each side provides it: ingot-kvm through the C
 * library (no system call), a hosted image with the system call. */
uint64_t host_now(void);

/*
 * Serves the devices, then waits until one in wake (ingot_poll_for's
 * wake_set) has news, a request came or monotonic time reaches
 * deadline_ns.  Times are the guest's: ns since boot_ns on host_now()'s
 * clock.  Returns the ready set (abi.h) and the guest's time at return in
 * *now_ns.
 */
uint64_t host_poll(uint64_t deadline_ns, uint64_t wake, uint64_t boot_ns,
		   uint64_t *now_ns);

/* How many polls there were and how many of them slept, on standard error
 * (with the device counters: only where there are devices). */
void host_wait_report(void);

#endif

/*
 * The guest's console: the host's standard output.  Output is never
 * reordered; when nobody reads it any more (a closed pipe) it is dropped
 * and counted, and the guest carries on: a console does not stop a
 * machine.  SIGPIPE is ignored (host_requests_init) so that a vanished
 * reader is an error of the write, not the end of the process.
 */
#ifndef HOST_CONSOLE_H
#define HOST_CONSOLE_H

#include <stddef.h>

/* Writes all of buf (host memory, already checked) to standard output. */
void host_console_write(const void *buf, size_t len);

/* The bytes dropped, if any, on standard error. */
void host_console_report(void);

#endif

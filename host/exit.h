/*
 * How the host process ends, the same on every target.  A guest's own
 * status is 0..249; the rest are the host's (abi.h, INGOT_EXIT_*), so a
 * guest cannot pose as its host: any other status it asks for is reported
 * and becomes INGOT_EXIT_BAD_STATUS.
 */
#ifndef HOST_EXIT_H
#define HOST_EXIT_H

#include <stdint.h>

/* The process status for a guest that asked to exit with status. */
int host_guest_status(int64_t status);

/* The host's counters, on standard error: the devices', the console's. */
void host_report(void);

/* Reports, then ends the process. */
_Noreturn void host_exit(int status);

#endif

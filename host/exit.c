/* How the host process ends: see exit.h. */
#include <ingot/abi.h>

#include "block.h"
#include "console.h"
#include "exit.h"
#include "msg.h"
#include "net.h"
#include "sys.h"
#include "wait.h"

int host_guest_status(int64_t status)
{
	if (status >= 0 && status < INGOT_EXIT_BAD_STATUS)
		return (int)status;
	host_msg("the guest asked to exit with status %lld, outside 0..%d: "
		 "exit status %d",
		 (long long)status, INGOT_EXIT_BAD_STATUS - 1,
		 INGOT_EXIT_BAD_STATUS);
	return INGOT_EXIT_BAD_STATUS;
}

void host_report(void)
{
	host_net_report();
	host_block_report();
	host_wait_report();
	host_console_report();
}

void host_exit(int status)
{
	host_report();
	sys_exit(status);
}

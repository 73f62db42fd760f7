/* The guest's console: see console.h. */
#include <errno.h>

#include "console.h"
#include "msg.h"
#include "sys.h"

static unsigned long dropped;

void host_console_write(const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		long n = syscall3(SYS_write, 1, p, len);
		if (n == -EINTR)
			continue;
		if (n == -EAGAIN) { /* a non-blocking pipe that is full */
			struct kernel_pollfd out = {1, POLLOUT, 0};
			syscall6(SYS_ppoll, (long)&out, 1, 0, 0, 0, 0);
			continue;
		}
		if (n <= 0) {
			dropped += len;
			return;
		}
		p += n;
		len -= (size_t)n;
	}
}

void host_console_report(void)
{
	if (dropped)
		host_msg("console: %lu bytes dropped (nobody reads standard "
			 "output any more)",
			 dropped);
}

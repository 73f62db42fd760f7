/* The host's messages: see msg.h. */
#include <ingot/abi.h>
#include <stdio.h>
#include <string.h>

#include "msg.h"
#include "sys.h"

static const char *prefix = "ingot";

void host_msg_init(const char *p)
{
	prefix = p;
}

void host_vmsg(const char *fmt, va_list ap)
{
	char buf[1024];
	int n = snprintf(buf, sizeof buf, "%s: ", prefix);
	if (n < 0 || n >= (int)sizeof buf)
		n = 0;
	int m = vsnprintf(buf + n, sizeof buf - n, fmt, ap);
	if (m > 0)
		n += m;
	if (n > (int)sizeof buf - 1)
		n = sizeof buf - 1;
	for (int i = 0; i < n; i++)
		if (buf[i] < 0x20 || buf[i] > 0x7e)
			buf[i] = '?';
	buf[n++] = '\n';
	syscall3(SYS_write, 2, buf, n);
}

void host_msg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	host_vmsg(fmt, ap);
	va_end(ap);
}

void host_vfail(const char *fmt, va_list ap)
{
	host_vmsg(fmt, ap);
	sys_exit(INGOT_EXIT_SETUP);
}

void host_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	host_vfail(fmt, ap);
}

void host_vstop(const char *fmt, va_list ap)
{
	host_vmsg(fmt, ap);
	host_msg("guest stopped");
	sys_exit(INGOT_EXIT_STOPPED);
}

void host_stop(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	host_vstop(fmt, ap);
}

/* Ending the guest, and the checks that end it: assert, the stack
 * protector, abort. */
#include <ingot/abi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int errno;

/* Set by the platform from the boot's random seed before any function with
 * a stack protector returns. */
uintptr_t __stack_chk_guard = 0x595e9fbd94fda766ULL;

_Noreturn void __stack_chk_fail(void);

void __stack_chk_fail(void)
{
	static const char msg[] = "stack smashing detected";
	ingot_abort(msg, sizeof msg - 1);
}

#define ATEXIT_MAX 32
static void (*atexit_fns[ATEXIT_MAX])(void);
static unsigned natexit;

int atexit(void (*fn)(void))
{
	if (natexit == ATEXIT_MAX)
		return -1;
	atexit_fns[natexit++] = fn;
	return 0;
}

void exit(int status)
{
	/* Last registered, first run; a handler that calls exit() ends
	 * the guest with the handlers not yet run skipped. */
	while (natexit)
		atexit_fns[--natexit]();
	fflush(stdout);
	ingot_exit(status);
}

void abort(void)
{
	static const char msg[] = "abort() called";
	fflush(stdout);
	ingot_abort(msg, sizeof msg - 1);
}

_Noreturn void __assert_fail(const char *expr, const char *file, int line,
			     const char *func);

void __assert_fail(const char *expr, const char *file, int line,
		   const char *func)
{
	char msg[256];
	int n = snprintf(msg, sizeof msg, "assertion failed: %s (%s:%d, %s)",
			 expr, file, line, func);
	fflush(stdout);
	ingot_abort(msg, n < (int)sizeof msg ? (size_t)n : sizeof msg - 1);
}

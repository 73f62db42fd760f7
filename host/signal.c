/* Signal handlers: see signal.h. */
#include "signal.h"
#include "msg.h"
#include "sys.h"

/* A handler returns here, and rt_sigreturn restores the interrupted
 * context; x86_64 Linux needs the handler's caller to provide it. */
void host_sigreturn(void);
__asm__(".pushsection .text.host_sigreturn, \"ax\"\n"
	".globl host_sigreturn\n"
	".type host_sigreturn, @function\n"
	"host_sigreturn:\n"
	"\tmovl $15, %eax\n" /* SYS_rt_sigreturn */
	"\tsyscall\n"
	"\tud2\n"
	".size host_sigreturn, . - host_sigreturn\n"
	".popsection");

static void set(int sig, void (*fn)(int, void *, void *))
{
	struct kernel_sigaction sa = {
	    .handler = fn,
	    .flags = SA_SIGINFO | SA_ONSTACK | SA_RESTORER | SA_RESTART,
	    .restorer = host_sigreturn,
	    .mask = ~0ULL,
	};
	long rc = syscall4(SYS_rt_sigaction, sig, &sa, 0, 8);
	if (rc < 0)
		host_fail("cannot handle signal %d: error %ld", sig, rc);
}

void host_signal(int sig, void (*fn)(int, void *, void *))
{
	set(sig, fn);
}

void host_signal_ignore(int sig)
{
	set(sig, SIG_IGN);
}

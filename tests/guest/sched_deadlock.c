/* Two fibers wait on queues nobody will ever wake: the scheduler must
 * report the deadlock, naming them, rather than sleep forever. */
#include <ingot/abi.h>
#include <ingot/sched.h>
#include <stdio.h>

static struct sched_waitq never = SCHED_WAITQ_INIT;

static void stuck(void *arg)
{
	(void)arg;
	sched_wait(&never, UINT64_MAX);
}

int ingot_main(int argc, char **argv)
{
	sched_spawn(stuck, NULL, "stuck-one");
	sched_spawn(stuck, NULL, "stuck-two");
	printf("waiting for fibers that never end\n");
	sched_run();
	printf("sched_run returned\n");
	return 1;
}

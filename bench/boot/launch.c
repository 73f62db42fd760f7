/*
 * Times launches of several commands, interleaved round by round so that
 * drift in the machine's speed affects them alike, and prints the median,
 * the 10th and 90th percentiles of each.  (Peak resident memory is not
 * taken from wait4: a posix_spawn child starts as a vfork of this process,
 * whose pages its high-water mark counts.)
 *   launch ROUNDS NAME[:STATUS]=COMMAND... (COMMAND split at spaces;
 *   each launch must exit with STATUS, default 0: QEMU reports a guest's
 *   exit 0 through isa-debug-exit as 3)
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "timing.h"

extern char **environ;

#define MAX_CMDS 8
#define MAX_ARGS 32

struct cmd {
	char *name;
	int status;
	char *argv[MAX_ARGS];
	double *us;
};

static void launch(struct cmd *c, int round, posix_spawn_file_actions_t *fa)
{
	int status;
	pid_t pid;
	double t0 = now_us();
	if (posix_spawn(&pid, c->argv[0], fa, NULL, c->argv, environ) != 0) {
		perror(c->argv[0]);
		exit(1);
	}
	if (waitpid(pid, &status, 0) != pid) {
		perror("wait4");
		exit(1);
	}
	c->us[round] = now_us() - t0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != c->status) {
		fprintf(stderr, "launch: %s failed (status 0x%x)\n", c->name,
			status);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	struct cmd cmds[MAX_CMDS];
	int n = 0, rounds = argc > 1 ? atoi(argv[1]) : 0;
	posix_spawn_file_actions_t fa;

	if (rounds < 1 || argc < 3 || argc - 2 > MAX_CMDS) {
		fprintf(stderr,
			"usage: launch ROUNDS NAME[:STATUS]=COMMAND...\n");
		return 2;
	}
	for (int i = 2; i < argc; i++, n++) {
		struct cmd *c = &cmds[n];
		char *eq = strchr(argv[i], '=');
		if (!eq) {
			fprintf(stderr, "launch: '%s' is not NAME=COMMAND\n",
				argv[i]);
			return 2;
		}
		*eq = '\0';
		c->name = argv[i];
		char *colon = strchr(argv[i], ':');
		c->status = 0;
		if (colon) {
			*colon = '\0';
			c->status = atoi(colon + 1);
		}
		int a = 0;
		for (char *t = strtok(eq + 1, " "); t && a < MAX_ARGS - 1;
		     t = strtok(NULL, " "))
			c->argv[a++] = t;
		c->argv[a] = NULL;
		c->us = calloc(rounds, sizeof *c->us);
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	for (int r = 0; r < rounds; r++)
		for (int i = 0; i < n; i++)
			launch(&cmds[i], r, &fa);
	printf("%-12s %10s %10s %10s\n", "", "median_us", "p10_us", "p90_us");
	for (int i = 0; i < n; i++) {
		struct cmd *c = &cmds[i];
		qsort(c->us, rounds, sizeof *c->us, cmp_double);
		printf("%-12s %10.0f %10.0f %10.0f\n", c->name,
		       c->us[rounds / 2], c->us[rounds / 10],
		       c->us[rounds * 9 / 10]);
	}
	return 0;
}

/* ingot stop and ingot rm. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char stop_help[] =
    "usage: ingot stop [-t SECONDS] NAME...\n"
    "Asks each guest to stop cleanly (SIGTERM to its monitor: the guest "
    "prints its\n"
    "counters and exits), then kills it after the grace period (its\n"
    "--stop-timeout, 10 s by default, or -t).  A stopped guest is not "
    "restarted;\n"
    "its record stays for ingot ps -a and ingot logs until ingot rm.\n"
    "  -t, --time SECONDS  the grace period\n";

static const char rm_help[] =
    "usage: ingot rm [-f] NAME...\n"
    "Removes the records (state and console log) of guests that have "
    "stopped.\n"
    "  -f, --force  stop running ones first (at once: SIGKILL)\n";

/* Stops name; grace_ms < 0: its own.  Returns its final state, printed. */
static int stop_one(const char *name, long grace_ms)
{
	struct kv config = {0}, state = {0};
	if (!cli_valid_name(name) || st_read(name, &config, &state) < 0) {
		cli_err("no guest %s (ingot ps -a lists them)", name);
		return 1;
	}
	if (strcmp(kv_get(&state, "status"), "exited") == 0) {
		printf("%s: not running\n", name);
		goto done;
	}
	pid_t sup = (pid_t)kv_num(&state, "sup_pid", 0);
	if (grace_ms < 0)
		grace_ms = kv_num(&config, "grace_ms", 10000);
	if (sup <= 0 || kill(sup, SIGTERM) < 0) {
		cli_err("cannot signal the supervisor of %s: %s", name,
			strerror(errno));
		kv_free(&config);
		kv_free(&state);
		return 1;
	}
	uint64_t start = cli_mono_ms();
	bool killed = false;
	while (st_alive(name)) {
		uint64_t waited = cli_mono_ms() - start;
		if (!killed && waited >= (uint64_t)grace_ms) {
			/* -t shorter than the guest's own grace. */
			struct kv c2 = {0}, s2 = {0};
			if (st_read(name, &c2, &s2) == 0 &&
			    kv_num(&s2, "pid", 0) > 0)
				kill((pid_t)kv_num(&s2, "pid", 0), SIGKILL);
			kv_free(&c2);
			kv_free(&s2);
			killed = true;
		}
		if (waited > (uint64_t)grace_ms + 10000) {
			cli_err("%s did not stop; its supervisor is pid %d",
				name, (int)sup);
			kv_free(&config);
			kv_free(&state);
			return 1;
		}
		cli_sleep_ms(10);
	}
	kv_free(&config);
	kv_free(&state);
	if (st_read(name, &config, &state) < 0) {
		printf("%s: stopped and removed (--rm)\n", name);
		return 0;
	}
	char why[48];
	sup_describe(&state, why, sizeof why);
	printf("%s: exited (%s)\n", name, why);
done:
	kv_free(&config);
	kv_free(&state);
	return 0;
}

int cmd_stop(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"time", required_argument, NULL, 't'},
	    {0},
	};
	long grace_ms = -1;
	char *end;
	int c, rc = 0;
	if (cli_help(argc, argv, stop_help))
		return 0;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "t:", opts, NULL)) != -1) {
		if (c == 't') {
			long s = strtol(optarg, &end, 10);
			if (*end || end == optarg || s < 0 || s > 3600)
				return cli_usage_err(
				    "stop", "-t: '%s' is not 0 to 3600 seconds",
				    optarg);
			grace_ms = s * 1000;
		} else {
			return cli_usage_err("stop", "unknown option '%s'",
					     argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_err("stop", "give the NAME of a guest");
	for (int i = optind; i < argc; i++)
		rc |= stop_one(argv[i], grace_ms);
	return rc;
}

static int rm_one(const char *name, bool force)
{
	struct kv config = {0}, state = {0};
	if (!cli_valid_name(name) || st_read(name, &config, &state) < 0) {
		cli_err("no guest %s (ingot ps -a lists them)", name);
		return 1;
	}
	int rc = 0;
	if (strcmp(kv_get(&state, "status"), "exited") != 0) {
		if (!force) {
			cli_err(
			    "%s is %s (ingot stop %s first, or ingot rm -f)",
			    name, kv_get(&state, "status"), name);
			rc = 1;
			goto done;
		}
		if (stop_one(name, 0)) {
			rc = 1;
			goto done;
		}
	}
	/* An exited guest's supervisor may still be finishing (its --rm, its
	 * last state): the record is its until it is gone. */
	for (int i = 0; i < 500 && st_alive(name); i++)
		cli_sleep_ms(10);
	int lock = st_lock();
	/* A supervisor that was killed left its tap behind. */
	const char *tap = kv_get(&state, "tap");
	if (kv_num(&state, "lost", 0) && tap && *tap)
		net_tap_delete(kv_get(&config, "netns"), tap);
	if (st_exists(name) && st_remove(name) < 0) {
		cli_err("cannot remove %s: %s", name, strerror(errno));
		rc = 1;
	}
	close(lock);
done:
	kv_free(&config);
	kv_free(&state);
	return rc;
}

int cmd_rm(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"force", no_argument, NULL, 'f'},
	    {0},
	};
	bool force = false;
	int c, rc = 0;
	if (cli_help(argc, argv, rm_help))
		return 0;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
		if (c == 'f')
			force = true;
		else
			return cli_usage_err("rm", "unknown option '%s'",
					     argv[optind - 1]);
	}
	if (optind >= argc)
		return cli_usage_err("rm", "give the NAME of a guest");
	for (int i = optind; i < argc; i++)
		rc |= rm_one(argv[i], force);
	return rc;
}

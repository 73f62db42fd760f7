/* ingot logs: a guest's console (and its supervisor's notes). */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char logs_help[] =
    "usage: ingot logs [-f] NAME\n"
    "Prints the console of guest NAME: everything its monitor and the "
    "guest\n"
    "wrote, and the supervisor's own lines (\"ingot: ...\": restarts, "
    "replacements).\n"
    "  -f, --follow  keep printing what comes, until the guest has "
    "stopped for good\n";

int cmd_logs(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"follow", no_argument, NULL, 'f'},
	    {0},
	};
	bool follow = false;
	int c;
	if (cli_help(argc, argv, logs_help))
		return 0;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
		if (c == 'f')
			follow = true;
		else
			return cli_usage_err("logs", "unknown option '%s'",
					     argv[optind - 1]);
	}
	if (optind != argc - 1)
		return cli_usage_err("logs", "give one NAME");
	const char *name = argv[optind];
	char path[CLI_PATH_MAX];
	if (!cli_valid_name(name) || !st_exists(name)) {
		cli_err("no guest %s (ingot ps -a lists them)", name);
		return 1;
	}
	st_path(path, name, "console.log");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (!follow)
			return 0;
		while ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 &&
		       st_alive(name))
			cli_sleep_ms(100);
		if (fd < 0)
			return 0;
	}
	char buf[65536];
	for (;;) {
		ssize_t n;
		while ((n = read(fd, buf, sizeof buf)) > 0)
			if (write(1, buf, n) != n)
				return 1;
		if (!follow)
			break;
		/* One more read after the supervisor is gone catches its
		 * last lines. */
		bool alive = st_alive(name);
		if (!alive) {
			while ((n = read(fd, buf, sizeof buf)) > 0)
				if (write(1, buf, n) != n)
					return 1;
			break;
		}
		cli_sleep_ms(100);
	}
	close(fd);
	return 0;
}

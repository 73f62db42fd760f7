/* ingot: the command dispatcher (see cli.h for the run directory). */
#include <stdio.h>
#include <string.h>

#include "oci.h"

static const struct cli_cmd cmds[] = {
    {"build", "build an app's image (make)", cmd_build},
    {"run", "boot an image under a supervisor", cmd_run},
    {"ps", "list guests", cmd_ps},
    {"logs", "print a guest's console", cmd_logs},
    {"stop", "stop guests cleanly (forced after a grace period)", cmd_stop},
    {"rm", "remove stopped guests' records", cmd_rm},
    {"replace", "replace a guest by another image, losing no request",
     cmd_replace},
    {"net", "create, delete and list networks (bridges)", cmd_net},
    {"summon", "boot guests when a DNS query names them (jitsu)", cmd_summon},
    {"oci", "the OCI runtime (also as build/ingot-oci)", oci_main},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: ingot [--run-dir DIR] COMMAND [ARGS...]\n"
		   "Builds, runs and supervises ingot guests.\n\n");
	for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f, "\n`ingot COMMAND --help` tells more.  State is kept in "
		   "--run-dir, else\n$INGOT_RUN_DIR, else /run/ingot (root) "
		   "or $XDG_RUNTIME_DIR/ingot.\n");
}

int main(int argc, char **argv)
{
	/* podman --runtime and ctr --runc-binary take a program's path. */
	const char *base =
	    strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	if (strcmp(base, "ingot-oci") == 0)
		return oci_main(argc, argv);
	int i = 1;
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--run-dir") == 0 && i + 1 < argc) {
			st_set_dir(argv[i + 1]);
			i += 2;
		} else if (strncmp(argv[i], "--run-dir=", 10) == 0) {
			st_set_dir(argv[i] + 10);
			i++;
		} else {
			fprintf(stderr, "ingot: unknown option '%s'\n",
				argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[i], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t c = 0; c < sizeof cmds / sizeof *cmds; c++)
		if (strcmp(argv[i], cmds[c].name) == 0)
			return cmds[c].run(argc - i, argv + i);
	fprintf(stderr, "ingot: '%s' is not a command\n", argv[i]);
	usage(stderr);
	return 2;
}

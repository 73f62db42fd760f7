/* ingot build: make, for one app and target. */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char build_help[] =
    "usage: ingot build APP [--target kvm|hosted|virtio] [--json] "
    "[KEY=VALUE...]\n"
    "Builds apps/APP for the target (default kvm; hosted without "
    "/dev/kvm) with\n"
    "make in the source tree ($INGOT_ROOT, else the one this binary was "
    "built\n"
    "in), and prints the image's path.  KEY=VALUE are make's: build "
    "options\n"
    "(CONFIG_NET_IPV4=10.0.0.2/24, ...: include/ingot/options.h) and the "
    "apps'\n"
    "own (ZONES=... for dns).\n";

static void list_apps(const char *root)
{
	char dir[CLI_PATH_MAX + 8];
	snprintf(dir, sizeof dir, "%s/apps", root);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	fprintf(stderr, "apps:");
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			fprintf(stderr, " %s", e->d_name);
	fprintf(stderr, "\n");
	closedir(d);
}

static bool valid_kv(const char *s)
{
	const char *eq = strchr(s, '=');
	if (!eq || eq == s)
		return false;
	for (const char *p = s; p < eq; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '_'))
			return false;
	return true;
}

int cmd_build(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"target", required_argument, NULL, 't'},
	    {"json", no_argument, NULL, 'j'},
	    {0},
	};
	const char *target = access("/dev/kvm", F_OK) == 0 ? "kvm" : "hosted";
	int c;
	if (cli_help(argc, argv, build_help))
		return 0;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 't' && (strcmp(optarg, "kvm") == 0 ||
				 strcmp(optarg, "hosted") == 0 ||
				 strcmp(optarg, "virtio") == 0))
			target = optarg;
		else if (c == 'j')
			cli_json = true;
		else
			return cli_usage_err("build",
					     "bad or unknown option '%s' "
					     "(--target is kvm, hosted or "
					     "virtio)",
					     argv[optind - 1]);
	}
	if (optind >= argc)
		return cli_usage_err("build", "give the APP to build");
	const char *app = argv[optind], *root = img_root();
	char dir[CLI_PATH_MAX + 16], image[CLI_PATH_MAX + 32];
	snprintf(dir, sizeof dir, "%s/apps/%s", root, app);
	if (!cli_valid_name(app) || access(dir, F_OK) < 0) {
		cli_err("no app '%s' in %s/apps (set INGOT_ROOT to the source "
			"tree)",
			app, root);
		list_apps(root);
		return 1;
	}
	char *mk[CLI_ARGS_MAX];
	int n = 0;
	mk[n++] = "make";
	mk[n++] = "-C";
	mk[n++] = (char *)root;
	mk[n++] = "--no-print-directory";
	mk[n++] = "-j2";
	if (strcmp(target, "kvm") == 0) {
		mk[n++] = "build/ingot-kvm";
		snprintf(image, sizeof image, "build/kvm/%s.kvm", app);
	} else if (strcmp(target, "hosted") == 0) {
		snprintf(image, sizeof image, "build/hosted/%s", app);
	} else {
		snprintf(image, sizeof image, "build/virtio/%s.virtio", app);
	}
	mk[n++] = image;
	for (int i = optind + 1; i < argc && n < CLI_ARGS_MAX - 1; i++) {
		if (!valid_kv(argv[i]))
			return cli_usage_err("build",
					     "'%s' is not KEY=VALUE (KEY in "
					     "capitals)",
					     argv[i]);
		mk[n++] = argv[i];
	}
	mk[n] = NULL;
	/* make's own output goes to stderr: stdout is the image's path. */
	fflush(stdout);
	int out = dup(1);
	dup2(2, 1);
	int rc = cli_exec(CLI_LOUD, mk);
	dup2(out, 1);
	close(out);
	if (rc != 0) {
		cli_err("the build of %s failed (make's messages above)", app);
		return 1;
	}
	if (cli_json) {
		printf("{\"app\":\"%s\",\"target\":\"%s\",\"image\":", app,
		       target);
		char full[CLI_PATH_MAX * 2];
		snprintf(full, sizeof full, "%s/%s", root, image);
		cli_json_str(full);
		printf("}\n");
	} else {
		printf("%s/%s\n", root, image);
	}
	return 0;
}

/* ingot run: a guest record, its tap, and the supervisor that runs it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../host/option.h"
#include "cli.h"

static const char run_help[] =
    "usage: ingot run [OPTIONS] IMAGE [-- ARGS...]\n"
    "Boots IMAGE (a .kvm image on ingot-kvm, or a hosted image as a "
    "process;\n"
    "a bare app name means build/kvm/APP.kvm) under a supervisor of its "
    "own.\n"
    "  --name NAME        the guest's name (default: the app's, numbered)\n"
    "  -d, --detach       return once it runs; its console goes to\n"
    "                     `ingot logs NAME`\n"
    "  --net NETWORK      attach its device 'service' to ingot network\n"
    "                     NETWORK (ingot net create) by a new tap device\n"
    "  --net DEV=BACKEND  pass --net DEV=BACKEND to the monitor as is (an\n"
    "                     existing tap, or udp:LPORT:RPORT)\n"
    "  --netns NS         run it in network namespace NS (default: its\n"
    "                     network's)\n"
    "  --ip ADDR/PREFIX   its address: passes --ipv4=ADDR/PREFIX to the "
    "image\n"
    "  --tap DEV          the tap device's name (default: ig + 8 hex "
    "digits)\n"
    "  --mac MAC          its MAC (default: random, locally administered)\n"
    "  --mem SIZE         guest memory (K, M or G; the monitor's default)\n"
    "  --restart POLICY   no (default), on-failure (restart after a "
    "nonzero\n"
    "                     exit) or always; restarts back off from 0.1 s to\n"
    "                     10 s, reset after 10 s of running.  Statuses 2\n"
    "                     (bad usage) and 252 (cannot start) are never\n"
    "                     restarted.\n"
    "  --stop-timeout S   seconds between the clean stop and SIGKILL "
    "(default 10)\n"
    "  --rm               remove its record when it has stopped\n"
    "  --ready TEXT       with -d, return once its console shows TEXT "
    "(e.g.\n"
    "                     'serving'); a guest that does not in time is\n"
    "                     stopped and removed\n"
    "  --ready-timeout S  how long to wait for it (default 30)\n"
    "  --json             print {\"name\": ...} (with -d)\n"
    "ARGS after -- are the image's own arguments.  Exit status: without "
    "-d, the\n"
    "guest's; with -d, 0 once it runs, 1 if it ended at once with a "
    "failure.\n";

struct run_opts {
	const char *name, *net, *netns, *ip, *tap, *mac, *mem, *restart;
	const char *ready;
	unsigned grace_ms, ready_ms;
	bool detach, rm;
	const char *netargs[8];
	int nnetargs;
};

static int parse(int argc, char **argv, struct run_opts *o)
{
	static const struct option opts[] = {
	    {"name", required_argument, NULL, 'N'},
	    {"detach", no_argument, NULL, 'd'},
	    {"net", required_argument, NULL, 'n'},
	    {"netns", required_argument, NULL, 'S'},
	    {"ip", required_argument, NULL, 'i'},
	    {"tap", required_argument, NULL, 't'},
	    {"mac", required_argument, NULL, 'M'},
	    {"mem", required_argument, NULL, 'm'},
	    {"restart", required_argument, NULL, 'r'},
	    {"stop-timeout", required_argument, NULL, 'T'},
	    {"rm", no_argument, NULL, 'R'},
	    {"json", no_argument, NULL, 'j'},
	    {"ready", required_argument, NULL, 'y'},
	    {"ready-timeout", required_argument, NULL, 'Y'},
	    {0},
	};
	int c;
	uint64_t bytes;
	o->grace_ms = 10000;
	o->ready_ms = 30000;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+d", opts, NULL)) != -1) {
		switch (c) {
		case 'N':
			o->name = optarg;
			break;
		case 'd':
			o->detach = true;
			break;
		case 'n':
			if (!strchr(optarg, '='))
				o->net = optarg;
			else if (o->nnetargs < 8)
				o->netargs[o->nnetargs++] = optarg;
			break;
		case 'S':
			o->netns = optarg;
			break;
		case 'i':
			o->ip = optarg;
			break;
		case 't':
			o->tap = optarg;
			break;
		case 'M':
			o->mac = optarg;
			break;
		case 'm': {
			const char *err = host_parse_size(optarg, 1 << 20,
							  4ULL << 30, &bytes);
			if (err)
				return cli_usage_err("run", "%s", err);
			o->mem = optarg;
			break;
		}
		case 'r':
			if (strcmp(optarg, "no") && strcmp(optarg, "always") &&
			    strcmp(optarg, "on-failure"))
				return cli_usage_err(
				    "run",
				    "--restart: '%s' is not no, "
				    "on-failure or always",
				    optarg);
			o->restart = optarg;
			break;
		case 'T':
			if (cli_seconds(optarg, 0, &o->grace_ms) < 0)
				return cli_usage_err("run",
						     "--stop-timeout: '%s' is "
						     "not 0 to 3600 seconds",
						     optarg);
			break;
		case 'R':
			o->rm = true;
			break;
		case 'y':
			if (!*optarg || strchr(optarg, '\n'))
				return cli_usage_err("run", "--ready: a text "
							    "of one line");
			o->ready = optarg;
			break;
		case 'Y':
			if (cli_seconds(optarg, 1, &o->ready_ms) < 0)
				return cli_usage_err("run",
						     "--ready-timeout: '%s' is "
						     "not 1 to 3600 seconds",
						     optarg);
			break;
		case 'j':
			cli_json = true;
			break;
		default:
			return cli_usage_err("run",
					     "unknown or incomplete option "
					     "'%s'",
					     argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_err("run", "no IMAGE given");
	if (o->name && !cli_valid_name(o->name))
		return cli_usage_err("run",
				     "'%s' is not a name (letters, digits, "
				     "'_', '.', '-'; at most %d)",
				     o->name, CLI_NAME_MAX - 1);
	if (o->ip && !strchr(o->ip, '/'))
		return cli_usage_err("run", "--ip: '%s' has no /PREFIX", o->ip);
	if (o->tap && (strlen(o->tap) > 15 || !cli_valid_name(o->tap)))
		return cli_usage_err("run", "--tap: '%s' is not a device name",
				     o->tap);
	if ((o->tap || o->ip) && !o->net)
		return cli_usage_err("run",
				     "--tap and --ip need --net NETWORK");
	if (o->netns && (o->net || !cli_valid_name(o->netns)))
		return cli_usage_err("run",
				     "--netns: a namespace name, and only "
				     "without --net NETWORK");
	return 0;
}

/* The image's app name: "dns" for .../dns.kvm. */
static void default_name(const char *path, char *name, size_t size)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t n = strcspn(base, ".");
	for (int i = 1; i < 100000; i++) {
		snprintf(name, size, "%.*s-%d", (int)(n > 20 ? 20 : n), base,
			 i);
		if (!st_exists(name))
			return;
	}
}

static int make_config(struct run_opts *o, const char *path, const char *target,
		       char **args, int nargs, struct kv *kv, char *tap)
{
	kv_set(kv, "image", path);
	kv_set(kv, "target", target);
	kv_set(kv, "mem", o->mem ? o->mem : "");
	kv_set(kv, "restart", o->restart ? o->restart : "no");
	kv_setf(kv, "grace_ms", "%u", o->grace_ms);
	kv_set(kv, "rm", o->rm ? "1" : "0");
	kv_set(kv, "network", o->net ? o->net : "");
	kv_set(kv, "ip", o->ip ? o->ip : "");
	kv_set(kv, "netns", o->netns ? o->netns : "");
	tap[0] = 0;
	if (o->net) {
		struct cli_net net;
		if (net_lookup(o->net, &net) < 0) {
			cli_err("no network %s (ingot net create %s makes it; "
				"ingot net ls lists them)",
				o->net, o->net);
			return -1;
		}
		kv_set(kv, "netns", net.netns);
		kv_set(kv, "bridge", net.bridge);
		uint32_t r = cli_random32();
		if (o->mac)
			kv_set(kv, "mac", o->mac);
		else
			kv_setf(kv, "mac", "02:1a:%02x:%02x:%02x:%02x", r >> 24,
				(r >> 16) & 255, (r >> 8) & 255, r & 255);
		if (o->tap)
			snprintf(tap, 16, "%s", o->tap);
		else
			snprintf(tap, 16, "ig%08x", cli_random32());
		kv_set(kv, "tap", tap);
	}
	for (int i = 0; i < o->nnetargs; i++)
		kv_add(kv, "netarg", o->netargs[i]);
	for (int i = 0; i < nargs; i++) {
		if (strchr(args[i], '\n')) {
			cli_err("argument %d holds a newline, which a guest "
				"cannot be given",
				i + 1);
			return -1;
		}
		kv_add(kv, "arg", args[i]);
	}
	if (o->ip) {
		char arg[80];
		snprintf(arg, sizeof arg, "--ipv4=%s", o->ip);
		kv_add(kv, "arg", arg);
	}
	return 0;
}

/* Waits for a detached guest's first console output (with ready: for that
 * text, up to ready_ms) or its end; setup errors come within milliseconds.
 * Returns 0 if it runs (or has exited with status 0), -1 if it ended
 * otherwise (bad usage, the monitor's setup failed, the guest failed), -2
 * if it did not print the ready text in time. */
static int started(const char *name, const char *ready, unsigned ready_ms)
{
	char log[CLI_PATH_MAX];
	struct stat st;
	st_path(log, name, "console.log");
	uint64_t until = cli_mono_ms() + (ready ? ready_ms : 1000), out_at = 0;
	off_t seen = 0;
	for (;;) {
		struct kv config = {0}, state = {0};
		bool exited = st_read(name, &config, &state) == 0 &&
			      strcmp(kv_get(&state, "status"), "exited") == 0;
		long long code = kv_num(&state, "exit", -1);
		kv_free(&config);
		kv_free(&state);
		if (exited) /* a quick clean exit (hello) is a run */
			return code == 0 && !ready ? 0 : -1;
		uint64_t now = cli_mono_ms();
		if (ready && st_log_shows(log, ready, &seen))
			return 0;
		if (!out_at && stat(log, &st) == 0 && st.st_size > 0)
			out_at = now;
		if (now >= until)
			return ready ? -2 : 0;
		if (!ready && out_at && now >= out_at + 20)
			return 0;
		cli_sleep_ms(5);
	}
}

/* The console's last lines, for a guest that could not start. */
static void print_log_tail(const char *name)
{
	char log[CLI_PATH_MAX];
	st_path(log, name, "console.log");
	FILE *f = fopen(log, "re");
	if (!f)
		return;
	char line[512];
	while (fgets(line, sizeof line, f))
		fprintf(stderr, "  %s", line);
	fclose(f);
}

static _Noreturn void supervise(const char *name, bool detach, int ready)
{
	if (detach) {
		setsid();
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	int rc = sup_main(name, !detach, ready);
	struct kv config = {0}, state = {0};
	if (st_read(name, &config, &state) == 0 && kv_num(&config, "rm", 0)) {
		int lock = st_lock();
		st_remove(name);
		close(lock);
	}
	_exit(rc);
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o = {0};
	if (cli_help(argc, argv, run_help))
		return 0;
	int rc = parse(argc, argv, &o);
	if (rc)
		return rc;
	char path[CLI_PATH_MAX], name[CLI_NAME_MAX], tap[16];
	const char *target;
	if (img_resolve(argv[optind], path, sizeof path, &target) < 0 ||
	    st_init() < 0)
		return 1;
	char **args = argv + optind + 1;
	int nargs = argc - optind - 1;
	if (nargs && strcmp(args[0], "--") == 0) {
		args++;
		nargs--;
	}

	int lock = st_lock();
	if (o.name)
		snprintf(name, sizeof name, "%s", o.name);
	else
		default_name(path, name, sizeof name);
	if (st_exists(name)) {
		cli_err("the name %s is taken (ingot ps -a lists guests; ingot "
			"rm %s frees it)",
			name, name);
		return 1;
	}
	struct kv config = {0};
	char netns[CLI_NAME_MAX];
	if (make_config(&o, path, target, args, nargs, &config, tap) < 0)
		return 1;
	snprintf(netns, sizeof netns, "%s", kv_get(&config, "netns"));
	if (*tap && net_tap_create(netns, tap, kv_get(&config, "bridge")) < 0)
		return 1;
	int err = st_create(name, &config);
	kv_free(&config);
	if (err) {
		cli_err("cannot record %s in %s: %s", name, st_dir(),
			strerror(-err));
		goto fail_tap;
	}
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		cli_err("pipe: %s", strerror(errno));
		goto fail_record;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(lock);
		close(pipefd[0]);
		supervise(name, o.detach, pipefd[1]);
	}
	close(pipefd[1]);
	char byte;
	bool ran = pid > 0 && read(pipefd[0], &byte, 1) == 1;
	close(pipefd[0]);
	close(lock);
	if (!ran) {
		cli_err("the supervisor of %s did not start", name);
		return 1;
	}
	if (!o.detach) {
		/* The supervisor asks the guest to stop on ^C; wait for it. */
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		int ws;
		while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
			;
		return WIFEXITED(ws) ? WEXITSTATUS(ws) : 1;
	}
	int up = started(name, o.ready, o.ready_ms);
	if (up < 0) {
		if (up == -1)
			cli_err("%s ended as it started; its console said:",
				name);
		else
			cli_err("%s did not print '%s' in %u ms, so it was "
				"stopped; its console said:",
				name, o.ready, o.ready_ms);
		/* No half-started guest: stop it and forget it. */
		kill(pid, SIGKILL);
		while (st_alive(name))
			cli_sleep_ms(5);
		print_log_tail(name);
		lock = st_lock();
		st_remove(name);
		if (*tap)
			net_tap_delete(netns, tap);
		close(lock);
		return 1;
	}
	if (cli_json)
		printf("{\"name\":\"%s\",\"image\":\"%s\"}\n", name, path);
	else
		printf("%s\n", name);
	return 0;
fail_record:
	st_remove(name);
fail_tap:
	if (*tap)
		net_tap_delete(netns, tap);
	return 1;
}

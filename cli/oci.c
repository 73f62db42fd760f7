/*
 * ingot-oci: the OCI runtime command line (create, start, state, kill,
 * delete over a bundle), so podman (--runtime) and containerd (ctr
 * --runc-binary) run an ingot kvm image packed as an OCI image.  The
 * container's process is ingot-kvm itself: create forks it in the
 * container's network namespace, where it waits on a FIFO (as runc's init
 * does) until start lets it exec the monitor; its exit status is the
 * guest's.  State: ROOT/ID/state (--root, default /run/ingot-oci).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "oci.h"

static const char oci_help[] =
    "usage: ingot oci [--root DIR] [--log FILE] [--log-format text|json] "
    "COMMAND\n"
    "   or: ingot-oci [the same]\n"
    "The OCI runtime for ingot kvm images (podman --runtime, ctr "
    "--runc-binary).\n"
    "  create [--bundle DIR] [--pid-file FILE] ID   set up, wait for "
    "start\n"
    "  start ID                                     boot the guest\n"
    "  state ID                                     its state as JSON\n"
    "  kill [--all] ID [SIGNAL]                     signal it (TERM: the "
    "clean stop)\n"
    "  delete [--force] ID                          forget it\n"
    "The image's command (process.args[0]) is its .kvm file; the guest "
    "takes the\n"
    "MAC and IPv4 address of the container's interface.  No terminal (-t), "
    "no exec.\n"
    "Other containers (a pod's pause container) are handed to runc "
    "($INGOT_OCI_RUNC).\n";

static char root[CLI_PATH_MAX] = "/run/ingot-oci";
static char log_path[CLI_PATH_MAX];
static bool log_json;

void oci_err(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "ingot-oci: %s\n", msg);
	if (!log_path[0])
		return;
	FILE *f = fopen(log_path, "ae");
	if (!f)
		return;
	if (log_json) {
		fputs("{\"level\":\"error\",\"msg\":\"", f);
		for (const char *p = msg; *p; p++)
			fprintf(f, *p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
		fputs("\"}\n", f);
	} else {
		fprintf(f, "ingot-oci: %s\n", msg);
	}
	fclose(f);
}

static void dir_of(char *buf, const char *id, const char *file)
{
	snprintf(buf, CLI_PATH_MAX, "%s/%s%s%s", root, id, file ? "/" : "",
		 file ? file : "");
}

/* The process's start time (field 22 of /proc/PID/stat), to tell it from
 * a later process with its pid. */
static unsigned long long start_time(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	char state = 0;
	unsigned long long t = 0;
	if (!p || sscanf(p + 2, "%c", &state) != 1 || state == 'Z')
		return 0;
	/* p + 2 is field 3; each blank ends a field (none has blanks now). */
	p += 2;
	for (int field = 3; p && field < 22; field++)
		if ((p = strchr(p, ' ')))
			p++;
	return p && sscanf(p, "%llu", &t) == 1 ? t : 0;
}

/* Podman's ids are 64 hex digits; containerd's are names. */
static bool valid_id(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 128 || id[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr(
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			"0123456789_.-",
			id[i]))
			return false;
	return true;
}

static int load(const char *id, struct kv *st)
{
	char path[CLI_PATH_MAX];
	if (!valid_id(id)) {
		oci_err("'%s' is not a container id", id);
		return -1;
	}
	dir_of(path, id, "state");
	if (kv_read(st, path) < 0) {
		oci_err("container %s does not exist", id);
		return -1;
	}
	return 0;
}

/* created, running or stopped. */
static const char *status(const char *id, const struct kv *st, pid_t *pid)
{
	char fifo[CLI_PATH_MAX];
	*pid = (pid_t)kv_num(st, "pid", 0);
	if (!*pid || start_time(*pid) !=
			 (unsigned long long)kv_num(st, "start_time", -1)) {
		*pid = 0;
		return "stopped";
	}
	dir_of(fifo, id, "exec.fifo");
	return access(fifo, F_OK) == 0 ? "created" : "running";
}

static int write_pid(const char *path, pid_t pid)
{
	char tmp[CLI_PATH_MAX + 16];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "we");
	if (!f)
		return -1;
	fprintf(f, "%d", (int)pid);
	if (fclose(f) || rename(tmp, path) < 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* The child: into the namespace, the network handed over, then wait for
 * start and become the monitor.  Reports "ok" or why not on report. */
static _Noreturn void init(const struct oci_config *c, const char *fifo,
			   int report)
{
	char *argv[CLI_ARGS_MAX + 8], netarg[64], ip[64], gw[64];
	struct oci_link l = {0};
	int n = 0;
	setsid();
	if (c->netns[0] == '-') {
		oci_err("the container has no network namespace of its own "
			"(--network host?): ingot-oci hands the container's "
			"interface to the guest, so it needs one");
		goto fail;
	}
	if (c->netns[0]) {
		int fd = open(c->netns, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
			oci_err("network namespace %s: %s", c->netns,
				strerror(errno));
			goto fail;
		}
		close(fd);
	} else if (unshare(CLONE_NEWNET) < 0) {
		oci_err("a new network namespace: %s", strerror(errno));
		goto fail;
	}
	if (oci_net_setup(&l) < 0)
		goto fail;
	argv[n++] = (char *)img_monitor();
	if (c->mem[0]) {
		argv[n++] = "--mem";
		argv[n++] = (char *)c->mem;
	}
	if (l.dev[0]) {
		snprintf(netarg, sizeof netarg, "service=%s,mac=%s", OCI_TAP,
			 l.mac);
		argv[n++] = "--net";
		argv[n++] = netarg;
	}
	argv[n++] = (char *)c->image;
	for (int i = 0; i < c->nargs; i++)
		argv[n++] = c->args[i];
	if (l.dev[0]) {
		snprintf(ip, sizeof ip, "--ipv4=%s", l.addr);
		argv[n++] = ip;
		if (l.gw[0]) {
			snprintf(gw, sizeof gw, "--ipv4-gateway=%s", l.gw);
			argv[n++] = gw;
		}
	}
	argv[n] = NULL;
	/* "ok" and the interface, for delete's teardown. */
	if (dprintf(report, "ok %s", l.dev) < 3)
		_exit(1);
	close(report);
	/* Blocks until start opens the FIFO to read. */
	int fd = open(fifo, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0", 1) != 1)
		_exit(1);
	close(fd);
	execv(argv[0], argv);
	fprintf(stderr, "ingot-oci: cannot run %s: %s\n", argv[0],
		strerror(errno));
	_exit(INGOT_EXIT_SETUP);
fail:
	_exit(1);
}

/* Containers that are not ingot images (a pod's sandbox, the pause
 * container, which holds the pod's namespaces) go to runc, with its state
 * under ROOT/runc; ROOT/ID/runc marks them.  wait: run it and return its
 * status (create, delete), else become it. */
static int to_runc(int argc, char **argv, bool wait)
{
	char rroot[CLI_PATH_MAX + 8];
	char *a[CLI_ARGS_MAX + 8];
	int n = 0;
	const char *runc = getenv("INGOT_OCI_RUNC");
	a[n++] = (char *)(runc && *runc ? runc : "runc");
	snprintf(rroot, sizeof rroot, "%s/runc", root);
	a[n++] = "--root";
	a[n++] = rroot;
	if (log_path[0]) {
		a[n++] = "--log";
		a[n++] = log_path;
	}
	if (log_json) {
		a[n++] = "--log-format";
		a[n++] = "json";
	}
	for (int i = 0; i < argc && n < CLI_ARGS_MAX + 7; i++)
		a[n++] = argv[i];
	a[n] = NULL;
	if (wait)
		return cli_exec(CLI_LOUD, a);
	execvp(a[0], a);
	oci_err("not an ingot image, and %s cannot run it: %s (install "
		"runc, or set INGOT_OCI_RUNC)",
		a[0], strerror(errno));
	return 1;
}

static bool delegated(const char *id)
{
	char path[CLI_PATH_MAX];
	if (!id || !valid_id(id))
		return false;
	dir_of(path, id, "runc");
	return access(path, F_OK) == 0;
}

/* The first argument after the command's name that is not an option. */
static const char *id_arg(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (argv[i][0] != '-')
			return argv[i];
	return NULL;
}

static void forget(const char *id)
{
	char path[CLI_PATH_MAX];
	dir_of(path, id, "runc");
	unlink(path);
	dir_of(path, id, NULL);
	rmdir(path);
}

static int create_runc(int argc, char **argv, const char *id)
{
	char dir[CLI_PATH_MAX], mark[CLI_PATH_MAX];
	dir_of(dir, id, NULL);
	dir_of(mark, id, "runc");
	int fd;
	if (mkdir(dir, 0700) < 0 ||
	    (fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		oci_err(errno == EEXIST ? "container %s exists already"
					: "cannot make %s's state: %s",
			id, strerror(errno));
		return 1;
	}
	close(fd);
	int rc = to_runc(argc, argv, true);
	if (rc != 0)
		forget(id);
	return rc;
}

static int oci_create(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"bundle", required_argument, NULL, 'b'},
	    {"pid-file", required_argument, NULL, 'p'},
	    {"console-socket", required_argument, NULL, 'c'},
	    {"no-pivot", no_argument, NULL, 'n'},
	    {"no-new-keyring", no_argument, NULL, 'n'},
	    {"preserve-fds", required_argument, NULL, 'n'},
	    {0},
	};
	const char *bundle = ".", *pid_file = NULL;
	bool console = false;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "b:", opts, NULL)) != -1) {
		if (c == 'b')
			bundle = optarg;
		else if (c == 'p')
			pid_file = optarg;
		else if (c == 'c')
			console = true;
		else if (c != 'n')
			return cli_usage_err("oci",
					     "create: unknown option "
					     "'%s'",
					     argv[optind - 1]);
	}
	if (optind != argc - 1)
		return cli_usage_err("oci", "create takes one container ID");
	const char *id = argv[optind];
	struct oci_config cfg;
	char dir[CLI_PATH_MAX], fifo[CLI_PATH_MAX], path[CLI_PATH_MAX];
	if (!valid_id(id)) {
		oci_err("'%s' is not a container id", id);
		return 1;
	}
	if (oci_config_read(bundle, &cfg) < 0)
		return 1;
	cli_mkdir_p(root);
	if (cfg.delegate)
		return create_runc(argc, argv, id);
	if (console) {
		oci_err("a console socket was given: an ingot guest has no "
			"terminal (run without -t)");
		oci_config_free(&cfg);
		return 1;
	}
	dir_of(dir, id, NULL);
	if (mkdir(dir, 0700) < 0) {
		oci_err(errno == EEXIST ? "container %s exists already"
					: "cannot make %s's state: %s",
			id, strerror(errno));
		return 1;
	}
	dir_of(fifo, id, "exec.fifo");
	int report[2];
	if (mkfifo(fifo, 0600) < 0 || pipe2(report, O_CLOEXEC) < 0) {
		oci_err("%s: %s", fifo, strerror(errno));
		goto fail_dir;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(report[0]);
		init(&cfg, fifo, report[1]);
	}
	close(report[1]);
	char ok[32] = {0};
	bool ready = pid > 0 && read(report[0], ok, sizeof ok - 1) >= 3 &&
		     strncmp(ok, "ok ", 3) == 0;
	close(report[0]);
	if (!ready) {
		if (pid > 0)
			waitpid(pid, NULL, 0);
		goto fail_dir;
	}
	struct kv st = {0};
	char abs[CLI_PATH_MAX];
	kv_setf(&st, "pid", "%d", (int)pid);
	kv_setf(&st, "start_time", "%llu", start_time(pid));
	kv_set(&st, "bundle", realpath(bundle, abs) ? abs : bundle);
	kv_set(&st, "netns", cfg.netns);
	kv_set(&st, "dev", ok + 3);
	kv_setf(&st, "created", "%llu", (unsigned long long)cli_now_ns());
	dir_of(path, id, "state");
	if (kv_write(&st, path) < 0 || (pid_file && write_pid(pid_file, pid))) {
		oci_err("cannot write the state of %s: %s", id,
			strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		if (ok[3] && cfg.netns[0])
			oci_net_teardown(cfg.netns, ok + 3);
		kv_free(&st);
		goto fail_dir;
	}
	kv_free(&st);
	oci_config_free(&cfg);
	return 0;
fail_dir:
	oci_config_free(&cfg);
	unlink(fifo);
	dir_of(path, id, "state");
	unlink(path);
	rmdir(dir);
	return 1;
}

static int oci_start(int argc, char **argv)
{
	if (delegated(id_arg(argc, argv)))
		return to_runc(argc, argv, false);
	if (argc != 2)
		return cli_usage_err("oci", "start takes one container ID");
	struct kv st = {0};
	pid_t pid;
	char fifo[CLI_PATH_MAX], byte;
	if (load(argv[1], &st) < 0)
		return 1;
	const char *s = status(argv[1], &st, &pid);
	kv_free(&st);
	if (strcmp(s, "created") != 0) {
		oci_err("container %s is %s, not created", argv[1], s);
		return 1;
	}
	dir_of(fifo, argv[1], "exec.fifo");
	int fd = open(fifo, O_RDONLY | O_CLOEXEC);
	bool ok = fd >= 0 && read(fd, &byte, 1) == 1;
	if (fd >= 0)
		close(fd);
	unlink(fifo);
	if (!ok) {
		oci_err("container %s did not start", argv[1]);
		return 1;
	}
	return 0;
}

static int oci_state(int argc, char **argv)
{
	if (delegated(id_arg(argc, argv)))
		return to_runc(argc, argv, false);
	if (argc != 2)
		return cli_usage_err("oci", "state takes one container ID");
	struct kv st = {0};
	pid_t pid;
	if (load(argv[1], &st) < 0)
		return 1;
	const char *s = status(argv[1], &st, &pid);
	printf("{\n  \"ociVersion\": \"1.0.2\",\n  \"id\": ");
	cli_json_str(argv[1]);
	printf(",\n  \"status\": \"%s\",\n  \"pid\": %d,\n  \"bundle\": ", s,
	       (int)pid);
	cli_json_str(kv_get(&st, "bundle"));
	printf(",\n  \"annotations\": {}\n}\n");
	kv_free(&st);
	return 0;
}

static int parse_signal(const char *s)
{
	char *end;
	long n = strtol(s, &end, 10);
	if (!*end && end != s)
		return n > 0 && n < NSIG ? (int)n : -1;
	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	for (int i = 1; i < NSIG; i++)
		if (sigabbrev_np(i) && strcmp(sigabbrev_np(i), s) == 0)
			return i;
	return -1;
}

static int oci_kill(int argc, char **argv)
{
	if (delegated(id_arg(argc, argv)))
		return to_runc(argc, argv, false);
	int i = 1;
	if (i < argc &&
	    (strcmp(argv[i], "--all") == 0 || strcmp(argv[i], "-a") == 0))
		i++;
	if (argc - i < 1 || argc - i > 2)
		return cli_usage_err("oci", "kill takes an ID and a SIGNAL");
	int sig = argc - i == 2 ? parse_signal(argv[i + 1]) : SIGTERM;
	if (sig < 0) {
		oci_err("'%s' is not a signal", argv[i + 1]);
		return 1;
	}
	struct kv st = {0};
	pid_t pid;
	if (load(argv[i], &st) < 0)
		return 1;
	const char *s = status(argv[i], &st, &pid);
	kv_free(&st);
	if (!pid) {
		oci_err("container %s is %s", argv[i], s);
		return 1;
	}
	if (kill(pid, sig) < 0) {
		oci_err("kill %d: %s", (int)pid, strerror(errno));
		return 1;
	}
	return 0;
}

static int oci_delete(int argc, char **argv)
{
	const char *rid = id_arg(argc, argv);
	if (delegated(rid)) {
		int rc = to_runc(argc, argv, true);
		if (rc == 0)
			forget(rid);
		return rc;
	}
	bool force = false;
	int i = 1;
	if (i < argc &&
	    (strcmp(argv[i], "--force") == 0 || strcmp(argv[i], "-f") == 0)) {
		force = true;
		i++;
	}
	if (argc - i != 1)
		return cli_usage_err("oci", "delete takes one container ID");
	const char *id = argv[i];
	struct kv st = {0};
	pid_t pid;
	char path[CLI_PATH_MAX];
	if (load(id, &st) < 0)
		return force ? 0 : 1;
	const char *s = status(id, &st, &pid);
	if (pid && strcmp(s, "running") == 0 && !force) {
		oci_err("container %s is running (kill it first, or delete "
			"--force)",
			id);
		kv_free(&st);
		return 1;
	}
	if (pid) {
		kill(pid, SIGKILL);
		for (int t = 0; t < 500 && start_time(pid); t++)
			cli_sleep_ms(2);
	}
	const char *netns = kv_get(&st, "netns"), *dev = kv_get(&st, "dev");
	if (netns && netns[0] == '/' && dev && *dev)
		oci_net_teardown(netns, dev);
	kv_free(&st);
	dir_of(path, id, "exec.fifo");
	unlink(path);
	dir_of(path, id, "state");
	unlink(path);
	dir_of(path, id, NULL);
	rmdir(path);
	return 0;
}

int oci_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"root", required_argument, NULL, 'r'},
	    {"log", required_argument, NULL, 'l'},
	    {"log-format", required_argument, NULL, 'f'},
	    {"systemd-cgroup", no_argument, NULL, 's'},
	    {"debug", no_argument, NULL, 's'},
	    {"version", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c;
	/* Engines run runtimes with a short PATH; ip and tc are in sbin. */
	char path[CLI_PATH_MAX];
	const char *old = getenv("PATH");
	snprintf(path, sizeof path, "%s%s/usr/sbin:/sbin:/usr/bin:/bin",
		 old ? old : "", old && *old ? ":" : "");
	setenv("PATH", path, 1);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'r')
			snprintf(root, sizeof root, "%s", optarg);
		else if (c == 'l')
			snprintf(log_path, sizeof log_path, "%s", optarg);
		else if (c == 'f')
			log_json = strcmp(optarg, "json") == 0;
		else if (c == 'v') {
			printf("ingot-oci version 0.1\nspec: 1.0.2\n");
			return 0;
		} else if (c == 'h') {
			fputs(oci_help, stdout);
			return 0;
		} else if (c != 's')
			return cli_usage_err("oci", "unknown option '%s'",
					     argv[optind - 1]);
	}
	if (optind >= argc)
		return cli_usage_err("oci", "no command");
	argc -= optind;
	argv += optind;
	if (cli_help(argc, argv, oci_help))
		return 0;
	static const struct {
		const char *name;
		int (*run)(int, char **);
	} cmds[] = {
	    {"create", oci_create}, {"start", oci_start},
	    {"state", oci_state},   {"kill", oci_kill},
	    {"delete", oci_delete},
	};
	for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			return cmds[i].run(argc, argv);
	oci_err("'%s' is not a command this runtime has (create, start, "
		"state, kill, delete)",
		argv[0]);
	return 2;
}

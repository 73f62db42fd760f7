/*
 * ingot summon: Mirage's jitsu for ingot.  A DNS server for a set of
 * names, each a guest: a query for a name whose guest is not running
 * boots it (ingot run -d --ready), and is answered with the guest's
 * address once it serves; a guest that has had no query and sent no frame
 * for the idle time is stopped.  It runs in its network's namespace and
 * starts and stops guests with this same program, so they are ordinary
 * guests to ingot ps, logs and stop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "summon.h"

#define SVC_MAX        64
#define PENDING_MAX    32
#define RCODE_SERVFAIL 2
#define RCODE_REFUSED  5

static const char summon_help[] =
    "usage: ingot summon --net NETWORK --listen ADDR[:PORT] [OPTIONS] "
    "NAME=IMAGE@ADDR/PREFIX...\n"
    "A DNS server for the NAMEs (jitsu): a query for a NAME whose guest "
    "is not\n"
    "running boots IMAGE on NETWORK at ADDR, as guest NAME, and is "
    "answered with\n"
    "ADDR once the guest's console shows the ready text; a guest with no "
    "query\n"
    "and no frame sent for the idle time is stopped.  Other names are "
    "REFUSED.\n"
    "  --listen ADDR[:PORT]  where to answer (in NETWORK's namespace; "
    "port 53)\n"
    "  --idle SECONDS        stop a guest idle this long (default 60)\n"
    "  --ready TEXT          what a guest prints when it serves (default "
    "'serving')\n"
    "  --ttl SECONDS         the answers' TTL (default 5)\n"
    "SIGTERM or SIGINT stops the guests it started, then it.\n";

enum svc_state { COLD, BOOTING, UP, STOPPING };

struct pending {
	struct sockaddr_in from;
	uint8_t msg[512];
	size_t len;
};

struct svc {
	char name[CLI_NAME_MAX];
	char image[CLI_PATH_MAX];
	char ip[48];
	uint8_t addr[4];
	enum svc_state state;
	pid_t child; /* the ingot run or ingot stop under way */
	uint64_t used_ms, frames;
	struct pending pending[PENDING_MAX];
	int npending;
};

static struct svc svcs[SVC_MAX];
static int nsvcs;
static const char *net_name, *ready = "serving";
static unsigned idle_ms = 60000, ttl = 5;
static int sock = -1;
static volatile sig_atomic_t quit;
static sigset_t unblocked; /* the mask ppoll waits with, and children get */

static void on_quit(int sig)
{
	(void)sig;
	quit = 1;
}

/* Only to end ppoll: a finished ingot run is reaped, and its queries
 * answered, at once rather than at the next timeout. */
static void on_child(int sig)
{
	(void)sig;
}

static int parse_svc(const char *spec)
{
	struct svc *s = &svcs[nsvcs];
	const char *eq = strchr(spec, '='), *at = strrchr(spec, '@');
	char addr[48];
	if (nsvcs == SVC_MAX || !eq || !at || at < eq ||
	    (size_t)(eq - spec) >= sizeof s->name)
		return -1;
	snprintf(s->name, sizeof s->name, "%.*s", (int)(eq - spec), spec);
	for (char *p = s->name; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 32;
	snprintf(s->image, sizeof s->image, "%.*s", (int)(at - eq - 1), eq + 1);
	snprintf(s->ip, sizeof s->ip, "%s", at + 1);
	snprintf(addr, sizeof addr, "%.*s", (int)strcspn(s->ip, "/"), s->ip);
	if (!cli_valid_name(s->name) || !strchr(s->ip, '/') ||
	    inet_pton(AF_INET, addr, s->addr) != 1)
		return -1;
	nsvcs++;
	return 0;
}

/* This program again: ingot --run-dir DIR ARGS... */
static pid_t spawn(char **args)
{
	char *argv[CLI_ARGS_MAX];
	int n = 0;
	argv[n++] = "ingot";
	argv[n++] = "--run-dir";
	argv[n++] = (char *)st_dir();
	while (*args && n < CLI_ARGS_MAX - 1)
		argv[n++] = *args++;
	argv[n] = NULL;
	pid_t pid = fork();
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &unblocked, NULL);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	return pid;
}

static void reply(const struct pending *p, int rcode, const uint8_t *addr)
{
	struct sdns_query q;
	uint8_t out[600];
	if (sdns_parse(p->msg, p->len, &q) < 0)
		return;
	size_t n = sdns_answer(p->msg, &q, rcode, addr, ttl, out, sizeof out);
	if (n)
		sendto(sock, out, n, 0, (const struct sockaddr *)&p->from,
		       sizeof p->from);
}

static void boot(struct svc *s)
{
	char *args[] = {"run",   "-d",      "--rm",           "--name",
			s->name, "--net",   (char *)net_name, "--ip",
			s->ip,   "--ready", (char *)ready,    s->image,
			NULL};
	s->child = spawn(args);
	s->state = s->child > 0 ? BOOTING : COLD;
	fprintf(stderr, "ingot summon: %s: booting %s\n", s->name, s->image);
}

static void answer_pending(struct svc *s, bool ok)
{
	for (int i = 0; i < s->npending; i++)
		reply(&s->pending[i], ok ? 0 : RCODE_SERVFAIL,
		      ok ? s->addr : NULL);
	s->npending = 0;
}

static void on_query(const uint8_t *msg, size_t len,
		     const struct sockaddr_in *from)
{
	struct sdns_query q;
	struct pending p = {.from = *from, .len = len};
	if (len > sizeof p.msg || sdns_parse(msg, len, &q) < 0)
		return;
	memcpy(p.msg, msg, len);
	struct svc *s = NULL;
	for (int i = 0; i < nsvcs && !s; i++)
		if (strcmp(svcs[i].name, q.name) == 0)
			s = &svcs[i];
	if (!s) {
		reply(&p, RCODE_REFUSED, NULL);
		return;
	}
	s->used_ms = cli_mono_ms();
	if (s->state == UP) {
		reply(&p, 0, s->addr);
		return;
	}
	/* Booting or stopping: answered when that is done (a client that
	 * retries meanwhile is queued again; the oldest are kept). */
	if (s->npending < PENDING_MAX)
		s->pending[s->npending++] = p;
	if (s->state == COLD)
		boot(s);
}

static void reaped(pid_t pid, int ws)
{
	bool ok = WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
	for (int i = 0; i < nsvcs; i++) {
		struct svc *s = &svcs[i];
		if (s->child != pid)
			continue;
		s->child = 0;
		if (s->state == BOOTING) {
			s->state = ok ? UP : COLD;
			s->used_ms = cli_mono_ms();
			s->frames = 0;
			answer_pending(s, ok);
			fprintf(stderr, "ingot summon: %s: %s\n", s->name,
				ok ? "up" : "could not be started");
		} else if (s->state == STOPPING) {
			s->state = COLD;
			fprintf(stderr, "ingot summon: %s: stopped\n", s->name);
			if (s->npending)
				boot(s);
		}
	}
}

/* The interfaces' counters of the namespace we are in (/proc/net/dev
 * follows the reader's namespace, where /sys keeps the one it was mounted
 * in): read once for every guest of a check. */
static char net_dev[65536];

static void read_net_dev(void)
{
	net_dev[0] = 0;
	int fd = open("/proc/net/dev", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	size_t n = 0;
	ssize_t r;
	while (n < sizeof net_dev - 1 &&
	       (r = read(fd, net_dev + n, sizeof net_dev - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	net_dev[n] = 0;
}

/* Frames the guest sent, by its tap: what it answers.  Frames toward it
 * would count the bridge's own chatter (IPv6 neighbour discovery, floods)
 * as use.  A line is "NAME: rx_bytes rx_packets ...". */
static uint64_t tap_frames(const char *tap)
{
	size_t len = strlen(tap);
	for (const char *line = net_dev; *line;) {
		const char *name = line + strspn(line, " ");
		const char *end = strchr(line, '\n');
		if (strncmp(name, tap, len) == 0 && name[len] == ':') {
			char *after;
			strtoull(name + len + 1, &after, 10); /* bytes */
			return strtoull(after, NULL, 10);
		}
		if (!end)
			break;
		line = end + 1;
	}
	return 0;
}

static void check_idle(uint64_t now)
{
	read_net_dev();
	for (int i = 0; i < nsvcs; i++) {
		struct svc *s = &svcs[i];
		if (s->state != UP)
			continue;
		struct kv config = {0}, state = {0};
		bool running = st_read(s->name, &config, &state) == 0 &&
			       strcmp(kv_get(&state, "status"), "running") == 0;
		uint64_t frames = running && kv_get(&state, "tap")
				      ? tap_frames(kv_get(&state, "tap"))
				      : 0;
		kv_free(&config);
		kv_free(&state);
		if (!running) { /* it ended by itself, or was stopped */
			s->state = COLD;
			continue;
		}
		if (frames != s->frames) {
			s->frames = frames;
			s->used_ms = now;
		}
		if (now - s->used_ms >= idle_ms) {
			char *args[] = {"stop", s->name, NULL};
			fprintf(stderr, "ingot summon: %s: idle, stopping\n",
				s->name);
			s->child = spawn(args);
			s->state = s->child > 0 ? STOPPING : UP;
		}
	}
}

static int open_socket(const char *listen)
{
	char host[64];
	unsigned port = 53;
	const char *colon = strchr(listen, ':');
	snprintf(host, sizeof host, "%.*s",
		 (int)(colon ? (size_t)(colon - listen) : strlen(listen)),
		 listen);
	if (colon)
		port = (unsigned)atoi(colon + 1);
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port)};
	if (port == 0 || port > 65535 ||
	    inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -2;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		cli_err("summon: cannot listen on %s: %s", listen,
			strerror(errno));
		return -1;
	}
	return fd;
}

static void stop_all(void)
{
	for (int i = 0; i < nsvcs; i++)
		if (svcs[i].state == UP || svcs[i].state == BOOTING) {
			if (svcs[i].child > 0)
				waitpid(svcs[i].child, NULL, 0);
			char *args[] = {"stop", svcs[i].name, NULL};
			pid_t pid = spawn(args);
			if (pid > 0)
				waitpid(pid, NULL, 0);
		}
}

static int parse(int argc, char **argv, const char **listen)
{
	static const struct option opts[] = {
	    {"net", required_argument, NULL, 'n'},
	    {"listen", required_argument, NULL, 'l'},
	    {"idle", required_argument, NULL, 'i'},
	    {"ready", required_argument, NULL, 'r'},
	    {"ttl", required_argument, NULL, 't'},
	    {0},
	};
	int c;
	char *end;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		unsigned long v = 0;
		if (c == 'i' || c == 't') {
			v = strtoul(optarg, &end, 10);
			if (*end || end == optarg || v > 86400)
				return cli_usage_err("summon",
						     "'%s' is not a number of "
						     "seconds",
						     optarg);
		}
		if (c == 'n')
			net_name = optarg;
		else if (c == 'l')
			*listen = optarg;
		else if (c == 'i')
			idle_ms = (unsigned)v * 1000;
		else if (c == 't')
			ttl = (unsigned)v;
		else if (c == 'r' && *optarg)
			ready = optarg;
		else
			return cli_usage_err("summon", "unknown option '%s'",
					     argv[optind - 1]);
	}
	if (!net_name || !*listen)
		return cli_usage_err("summon", "--net and --listen are needed");
	if (optind >= argc)
		return cli_usage_err("summon", "no NAME=IMAGE@ADDR/PREFIX");
	for (int i = optind; i < argc; i++)
		if (parse_svc(argv[i]) < 0)
			return cli_usage_err("summon",
					     "'%s' is not NAME=IMAGE@ADDR/"
					     "PREFIX (NAME a guest name)",
					     argv[i]);
	return 0;
}

int cmd_summon(int argc, char **argv)
{
	const char *listen = NULL;
	if (cli_help(argc, argv, summon_help))
		return 0;
	int rc = parse(argc, argv, &listen);
	if (rc)
		return rc;
	struct cli_net net;
	if (st_init() < 0)
		return 1;
	if (net_lookup(net_name, &net) < 0) {
		cli_err("no network %s (ingot net create %s makes it)",
			net_name, net_name);
		return 1;
	}
	for (int i = 0; i < nsvcs; i++) {
		char path[CLI_PATH_MAX];
		const char *target;
		if (img_resolve(svcs[i].image, path, sizeof path, &target) < 0)
			return 1;
		snprintf(svcs[i].image, sizeof svcs[i].image, "%s", path);
	}
	if (*net.netns && cli_enter_netns(net.netns) < 0) {
		cli_err("summon: cannot enter namespace %s", net.netns);
		return 1;
	}
	sock = open_socket(listen);
	if (sock == -2)
		return cli_usage_err(
		    "summon", "--listen: '%s' is not ADDR[:PORT]", listen);
	if (sock < 0)
		return 1;
	/* Blocked but while in ppoll, so none comes between a check and the
	 * wait. */
	sigset_t handled;
	sigemptyset(&handled);
	sigaddset(&handled, SIGCHLD);
	sigaddset(&handled, SIGTERM);
	sigaddset(&handled, SIGINT);
	sigprocmask(SIG_BLOCK, &handled, &unblocked);
	signal(SIGCHLD, on_child);
	signal(SIGTERM, on_quit);
	signal(SIGINT, on_quit);
	fprintf(stderr, "ingot summon: answering for %d names on %s\n", nsvcs,
		listen);
	uint64_t next_idle = cli_mono_ms() + 1000;
	while (!quit) {
		struct pollfd pfd = {.fd = sock, .events = POLLIN};
		uint64_t left = next_idle - cli_mono_ms(); /* past it: huge */
		struct timespec ts = {0, 0};
		if (left < 1000)
			ts.tv_nsec = (long)left * 1000000;
		if (ppoll(&pfd, 1, &ts, &unblocked) > 0) {
			uint8_t msg[512];
			struct sockaddr_in from;
			socklen_t flen = sizeof from;
			ssize_t n = recvfrom(sock, msg, sizeof msg, 0,
					     (struct sockaddr *)&from, &flen);
			if (n > 0)
				on_query(msg, (size_t)n, &from);
		}
		int ws;
		pid_t pid;
		while ((pid = waitpid(-1, &ws, WNOHANG)) > 0)
			reaped(pid, ws);
		uint64_t now = cli_mono_ms();
		if (now >= next_idle) {
			check_idle(now);
			next_idle = now + 1000;
		}
	}
	stop_all();
	return 0;
}

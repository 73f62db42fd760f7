/* ingot ps: every guest's name, image, state, uptime, memory, address and
 * the counters from its last report. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const char ps_help[] =
    "usage: ingot ps [-a] [--counters] [--json] [NAME...]\n"
    "Lists running guests (-a: and exited ones) with their image, state,\n"
    "uptime, memory (the monitor's resident set), address and network\n"
    "counters (frames in/out, from the guest's last report on its "
    "console).\n"
    "  -a, --all     also guests that have exited\n"
    "  --counters    ask each guest for a fresh report first (SIGUSR1)\n"
    "  --json        one JSON array, for scripts\n"
    "STATE is running, restarting, stopping, or exited (STATUS): the "
    "exit status,\n"
    "'killed by SIGx' for a killed monitor, 'supervisor lost' when the\n"
    "supervisor itself was killed.\n";

struct row {
	char status[64], uptime[24], mem[16], counters[64];
	long long rss_kib, frames_in, frames_out, pid, exit, restarts;
	double seconds;
};

static long long rss_kib(long long pid)
{
	char path[64], line[256];
	long long kib = -1;
	snprintf(path, sizeof path, "/proc/%lld/status", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %lld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* The last "net: counters of service:" report in the console since the
 * guest (this run of it) started at from. */
static void counters(const char *name, long long from, struct row *r)
{
	char path[CLI_PATH_MAX];
	st_path(path, name, "console.log");
	FILE *f = fopen(path, "re");
	r->frames_in = r->frames_out = -1;
	if (!f)
		return;
	struct stat st;
	/* Reports are short; the last 64 KiB hold the latest. */
	if (fstat(fileno(f), &st) == 0 && st.st_size - 65536 > from)
		from = st.st_size - 65536;
	fseek(f, from, SEEK_SET);
	char line[512];
	bool in = false;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "net: counters of service:", 25) == 0) {
			in = true;
			continue;
		}
		if (line[0] != ' ')
			in = false;
		const char *p;
		if (in && (p = strstr(line, "eth_frames_in=")))
			r->frames_in = atoll(p + 14);
		if (in && (p = strstr(line, "eth_frames_out=")))
			r->frames_out = atoll(p + 15);
	}
	fclose(f);
}

static void human_time(double s, char *buf, size_t size)
{
	if (s < 120)
		snprintf(buf, size, "%.1fs", s);
	else if (s < 7200)
		snprintf(buf, size, "%.0fm", s / 60);
	else
		snprintf(buf, size, "%.1fh", s / 3600);
}

static void fill(const struct kv *state, const char *name, struct row *r)
{
	const char *status = kv_get(state, "status");
	char why[48];
	r->pid = kv_num(state, "pid", 0);
	r->exit = kv_num(state, "exit", -1);
	r->restarts = kv_num(state, "restarts", 0);
	sup_describe(state, why, sizeof why);
	if (strcmp(status, "exited") == 0)
		snprintf(r->status, sizeof r->status, "exited (%s)", why);
	else
		snprintf(r->status, sizeof r->status, "%s", status);
	uint64_t started = (uint64_t)kv_num(state, "started", 0);
	uint64_t finished = (uint64_t)kv_num(state, "finished", 0);
	bool live =
	    strcmp(status, "running") == 0 || strcmp(status, "stopping") == 0;
	uint64_t end = live ? cli_now_ns() : finished;
	r->seconds = started && end > started ? (end - started) / 1e9 : 0;
	if (!live)
		r->pid = 0;
	human_time(r->seconds, r->uptime, sizeof r->uptime);
	if (!live)
		snprintf(r->uptime, sizeof r->uptime, "-");
	r->rss_kib = r->pid ? rss_kib(r->pid) : -1;
	if (r->rss_kib >= 0)
		snprintf(r->mem, sizeof r->mem, "%.1fM", r->rss_kib / 1024.0);
	else
		snprintf(r->mem, sizeof r->mem, "-");
	counters(name, kv_num(state, "log_from", 0), r);
	if (r->frames_in >= 0)
		snprintf(r->counters, sizeof r->counters, "in=%lld out=%lld",
			 r->frames_in, r->frames_out);
	else
		snprintf(r->counters, sizeof r->counters, "-");
}

/* Asks each live guest for a report and gives them a moment to write it. */
static void refresh(char **names, int n)
{
	bool asked = false;
	for (int i = 0; i < n; i++) {
		struct kv config = {0}, state = {0};
		if (st_read(names[i], &config, &state) == 0 &&
		    strcmp(kv_get(&state, "status"), "running") == 0 &&
		    kv_num(&state, "sup_pid", 0) > 0)
			asked |= kill((pid_t)kv_num(&state, "sup_pid", 0),
				      SIGUSR1) == 0;
		kv_free(&config);
		kv_free(&state);
	}
	if (asked)
		cli_sleep_ms(200);
}

static bool wanted(const char *name, int argc, char **argv)
{
	if (optind >= argc)
		return true;
	for (int i = optind; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return true;
	return false;
}

int cmd_ps(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"all", no_argument, NULL, 'a'},
	    {"counters", no_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},
	    {0},
	};
	bool all = false, fresh = false;
	int c;
	if (cli_help(argc, argv, ps_help))
		return 0;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "a", opts, NULL)) != -1) {
		if (c == 'a')
			all = true;
		else if (c == 'c')
			fresh = true;
		else if (c == 'j')
			cli_json = true;
		else
			return cli_usage_err("ps", "unknown option '%s'",
					     argv[optind - 1]);
	}
	char **names;
	int n = st_list("guests", &names), shown = 0;
	if (fresh)
		refresh(names, n);
	if (cli_json)
		printf("[");
	else
		printf("%-16s %-12s %-28s %-8s %-7s %-20s %-4s %s\n", "NAME",
		       "IMAGE", "STATE", "UPTIME", "MEM", "ADDRESS", "RST",
		       "FRAMES");
	for (int i = 0; i < n; i++) {
		struct kv config = {0}, state = {0};
		struct row r;
		if (!wanted(names[i], argc, argv) ||
		    st_read(names[i], &config, &state) < 0)
			goto next;
		bool exited = strcmp(kv_get(&state, "status"), "exited") == 0;
		if (exited && !all && optind >= argc)
			goto next;
		fill(&state, names[i], &r);
		const char *image = kv_get(&config, "image");
		const char *base =
		    strrchr(image, '/') ? strrchr(image, '/') + 1 : image;
		const char *ip = kv_get(&config, "ip");
		const char *net = kv_get(&config, "network");
		if (cli_json) {
			printf("%s{\"name\":\"%s\",\"image\":",
			       shown ? "," : "", names[i]);
			cli_json_str(image);
			printf(",\"status\":\"%s\",\"state\":",
			       kv_get(&state, "status"));
			cli_json_str(r.status);
			printf(",\"exit\":%lld,\"signal\":%lld,\"pid\":%lld,"
			       "\"uptime_s\":%.3f,\"rss_kib\":%lld,\"ip\":",
			       r.exit, kv_num(&state, "signal", 0), r.pid,
			       r.seconds, r.rss_kib);
			cli_json_str(ip);
			printf(",\"network\":");
			cli_json_str(net);
			printf(",\"tap\":");
			cli_json_str(kv_get(&state, "tap"));
			printf(",\"restarts\":%lld,\"frames_in\":%lld,"
			       "\"frames_out\":%lld}",
			       r.restarts, r.frames_in, r.frames_out);
		} else {
			char addr[64];
			snprintf(addr, sizeof addr, "%s%s%s",
				 ip && *ip ? ip : "-", net && *net ? "@" : "",
				 net ? net : "");
			printf("%-16s %-12.12s %-28s %-8s %-7s %-20s %-4lld "
			       "%s\n",
			       names[i], base, r.status, r.uptime, r.mem, addr,
			       r.restarts, r.counters);
		}
		shown++;
	next:
		kv_free(&config);
		kv_free(&state);
	}
	if (cli_json)
		printf("]\n");
	st_names_free(names, n);
	return 0;
}

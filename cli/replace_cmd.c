/* ingot replace: asks a guest's supervisor to replace it (replace.c does
 * the work) and waits for the outcome. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cli.h"

static const char replace_help[] =
    "usage: ingot replace [OPTIONS] NAME IMAGE\n"
    "Replaces guest NAME, which must be on an ingot network, by IMAGE "
    "with no\n"
    "request lost: the new guest boots with the same MAC and arguments on "
    "a tap\n"
    "outside the bridge; once its console shows the ready text, its tap "
    "takes\n"
    "the old one's place on the bridge; the old guest answers what it "
    "already\n"
    "has for the drain time, then is stopped cleanly.  If the new guest "
    "fails,\n"
    "the old one keeps serving.\n"
    "  --ready TEXT      the console text that means it serves (default\n"
    "                    'serving', as the network apps print)\n"
    "  --drain SECONDS   how long the old guest still answers (default 1)\n"
    "  --timeout SECONDS how long to wait for the ready text (default 30)\n"
    "  --json            print the outcome as JSON\n";

struct rep_opts {
	const char *ready;
	unsigned drain_ms, timeout_ms;
};

static int seconds(const char *s, unsigned *ms)
{
	char *end;
	double v = strtod(s, &end);
	if (*end || end == s || v < 0 || v > 3600)
		return -1;
	*ms = (unsigned)(v * 1000);
	return 0;
}

static int parse(int argc, char **argv, struct rep_opts *o)
{
	static const struct option opts[] = {
	    {"ready", required_argument, NULL, 'r'},
	    {"drain", required_argument, NULL, 'd'},
	    {"timeout", required_argument, NULL, 't'},
	    {"json", no_argument, NULL, 'j'},
	    {0},
	};
	int c;
	o->ready = "serving";
	o->drain_ms = 1000;
	o->timeout_ms = 30000;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'r' && *optarg && !strchr(optarg, '\n'))
			o->ready = optarg;
		else if (c == 'd' && seconds(optarg, &o->drain_ms) == 0)
			;
		else if (c == 't' && seconds(optarg, &o->timeout_ms) == 0)
			;
		else if (c == 'j')
			cli_json = true;
		else
			return cli_usage_err("replace",
					     "bad or unknown option '%s'",
					     argv[optind - 1]);
	}
	if (optind != argc - 2)
		return cli_usage_err("replace", "give NAME and IMAGE");
	return 0;
}

/* Waits for the supervisor's answer to request id, then for the old guest
 * to be gone; returns the result text's owner (state). */
static int await(const char *name, const char *id, uint64_t deadline,
		 struct kv *state)
{
	for (;;) {
		struct kv config = {0};
		kv_free(state);
		if (st_read(name, &config, state) < 0)
			return -1;
		kv_free(&config);
		const char *rid = kv_get(state, "replace_id");
		const char *res = kv_get(state, "replace_result");
		bool answered = rid && strcmp(rid, id) == 0 && res;
		if (answered &&
		    (strcmp(res, "ok") != 0 || !kv_num(state, "draining", 0)))
			return 0;
		if (strcmp(kv_get(state, "status"), "exited") == 0 ||
		    cli_mono_ms() > deadline)
			return -1;
		cli_sleep_ms(10);
	}
}

int cmd_replace(int argc, char **argv)
{
	struct rep_opts o;
	if (cli_help(argc, argv, replace_help))
		return 0;
	int rc = parse(argc, argv, &o);
	if (rc)
		return rc;
	const char *name = argv[optind];
	char path[CLI_PATH_MAX], req[CLI_PATH_MAX], id[40];
	const char *target;
	struct kv config = {0}, state = {0}, r = {0};
	if (!cli_valid_name(name) || st_read(name, &config, &state) < 0) {
		cli_err("no guest %s (ingot ps lists them)", name);
		return 1;
	}
	if (img_resolve(argv[optind + 1], path, sizeof path, &target) < 0)
		goto fail;
	if (strcmp(kv_get(&state, "status"), "running") != 0) {
		cli_err("%s is %s: only a running guest can be replaced (ingot "
			"run starts one)",
			name, kv_get(&state, "status"));
		goto fail;
	}
	if (!*kv_get(&config, "network")) {
		cli_err("%s is on no ingot network, so its address cannot move "
			"(start it with ingot run --net NETWORK)",
			name);
		goto fail;
	}
	/* One replacement of a guest at a time. */
	st_path(req, name, "replace.lock");
	int lock = open(req, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0) {
		cli_err("a replacement of %s is under way already", name);
		goto fail;
	}
	snprintf(id, sizeof id, "%08x%08x", cli_random32(), cli_random32());
	kv_set(&r, "id", id);
	kv_set(&r, "image", path);
	kv_set(&r, "target", target);
	kv_set(&r, "ready", o.ready);
	kv_setf(&r, "drain_ms", "%u", o.drain_ms);
	kv_setf(&r, "timeout_ms", "%u", o.timeout_ms);
	st_path(req, name, "replace");
	if (kv_write(&r, req) < 0 ||
	    kill((pid_t)kv_num(&state, "sup_pid", 0), SIGHUP) < 0) {
		cli_err("cannot ask the supervisor of %s: %s", name,
			strerror(errno));
		goto fail;
	}
	uint64_t deadline = cli_mono_ms() + o.timeout_ms + o.drain_ms +
			    kv_num(&config, "grace_ms", 10000) + 5000;
	if (await(name, id, deadline, &state) < 0) {
		cli_err("%s did not finish the replacement (ingot logs %s "
			"says why)",
			name, name);
		goto fail;
	}
	const char *res = kv_get(&state, "replace_result");
	bool ok = strcmp(res, "ok") == 0;
	if (cli_json) {
		printf("{\"name\":\"%s\",\"ok\":%s,\"result\":", name,
		       ok ? "true" : "false");
		cli_json_str(res);
		printf(",\"pid\":%lld}\n", kv_num(&state, "pid", 0));
	} else if (ok) {
		printf("%s: replaced by %s\n", name, path);
	} else {
		cli_err("%s: %s", name, res);
	}
	rc = ok ? 0 : 1;
	goto out;
fail:
	rc = 1;
out:
	kv_free(&config);
	kv_free(&state);
	kv_free(&r);
	return rc;
}

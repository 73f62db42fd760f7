/*
 * ingot replace, the supervisor's side.  The new guest boots on a tap of
 * its own with the old guest's MAC and address, outside the bridge, so
 * nothing reaches it before it serves.  Once its console shows the ready
 * text, its tap joins the bridge and the old tap stops learning and
 * receiving floods, and the old MAC's forwarding entry is dropped: the
 * bridge floods the next frame for that MAC, the new guest answers it and
 * the bridge learns the new port.  Clients see the same MAC and address
 * throughout, so no ARP cache has to change.  The old guest still answers
 * what it had already received (its replies leave through its tap as
 * before) until, after the drain time, it is stopped.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervise.h"

static void result(struct sup *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void result(struct sup *s, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	kv_set(&s->state, "replace_id", s->replace_id);
	kv_set(&s->state, "replace_result", buf);
	kv_set(&s->state, "draining", s->old.pid ? "1" : "0");
	sup_save(s);
	sup_log(s, "replace: %s", buf);
}

void rep_request(struct sup *s)
{
	char path[CLI_PATH_MAX];
	struct kv req = {0};
	st_path(path, s->name, "replace");
	if (kv_read(&req, path) < 0)
		return;
	unlink(path);
	snprintf(s->replace_id, sizeof s->replace_id, "%s",
		 kv_get(&req, "id") ? kv_get(&req, "id") : "");
	const char *image = kv_get(&req, "image");
	const char *target = kv_get(&req, "target");
	const char *ready = kv_get(&req, "ready");
	if (!image || !target || !ready || !*s->replace_id)
		result(s, "error: an incomplete request");
	else if (s->stopping || !s->cur.pid)
		result(s, "error: the guest is not running");
	else if (s->next.pid || s->old.pid)
		result(s, "error: a replacement is under way");
	else if (!*s->bridge || !*s->cur.tap)
		result(s, "error: the guest is on no ingot network (ingot "
			  "run --net NETWORK)");
	else {
		char tap[16];
		snprintf(tap, sizeof tap, "ig%08x", cli_random32());
		snprintf(s->ready, sizeof s->ready, "%s", ready);
		s->drain_ms = (unsigned)kv_num(&req, "drain_ms", 1000);
		s->ready_by = cli_mono_ms() + kv_num(&req, "timeout_ms", 30000);
		/* Logged before the search starts: it names the text. */
		sup_log(s, "replace: starting %s on %s, waiting for '%s'",
			image, tap, ready);
		struct stat st;
		s->ready_from = stat(s->log, &st) == 0 ? st.st_size : 0;
		if (net_tap_create(s->netns, tap, NULL) < 0)
			result(s, "error: cannot make tap %s", tap);
		else if (sup_start(s, &s->next, image, target, tap) < 0) {
			net_tap_delete(s->netns, tap);
			result(s, "error: cannot start %s", image);
		}
	}
	kv_free(&req);
}

static void switch_over(struct sup *s, uint64_t now)
{
	const char *ns = s->netns, *mac = kv_get(&s->config, "mac");
	if (cli_ip(ns, CLI_QUIET, "link", "set", s->next.tap, "master",
		   s->bridge, NULL)) {
		kill(s->next.pid, SIGKILL);
		result(s, "error: cannot attach %s to %s", s->next.tap,
		       s->bridge);
		return;
	}
	cli_bridge(ns, CLI_QUIET, "link", "set", "dev", s->cur.tap, "learning",
		   "off", "flood", "off", NULL);
	cli_bridge(ns, CLI_SILENT, "fdb", "del", mac, "dev", s->cur.tap,
		   "master", NULL);
	s->old = s->cur;
	s->cur = s->next;
	memset(&s->next, 0, sizeof s->next);
	s->old_term_at = now + s->drain_ms;
	s->fails = 0;
	kv_set(&s->config, "image", s->cur.image);
	kv_set(&s->config, "target", s->cur.target);
	kv_set(&s->config, "tap", s->cur.tap);
	char path[CLI_PATH_MAX];
	st_path(path, s->name, "config");
	kv_write(&s->config, path);
	kv_setf(&s->state, "pid", "%d", (int)s->cur.pid);
	kv_setf(&s->state, "started", "%llu", (unsigned long long)cli_now_ns());
	kv_set(&s->state, "image", s->cur.image);
	kv_set(&s->state, "tap", s->cur.tap);
	result(s, "ok");
}

void rep_tick(struct sup *s, uint64_t now)
{
	if (s->next.pid && !s->stopping) {
		if (st_log_shows(s->log, s->ready, &s->ready_from))
			switch_over(s, now);
		else if (now >= s->ready_by) {
			kill(s->next.pid, SIGKILL);
			result(s,
			       "error: the new guest did not print '%s' in "
			       "time; the old one still serves",
			       s->ready);
			s->ready_by = UINT64_MAX;
		}
	}
	if (s->old.pid && s->old_term_at && now >= s->old_term_at) {
		kill(s->old.pid, SIGTERM);
		s->old_term_at = 0;
		s->old_kill_at = now + sup_grace_ms(s);
	}
	if (s->old.pid && s->old_kill_at && now >= s->old_kill_at) {
		kill(s->old.pid, SIGKILL);
		s->old_kill_at = 0;
	}
}

bool rep_reaped(struct sup *s, pid_t pid, int ws)
{
	if (pid == s->next.pid) {
		net_tap_delete(s->netns, s->next.tap);
		s->next.pid = 0;
		if (s->ready_by != UINT64_MAX)
			result(s,
			       "error: the new guest ended (status %d) "
			       "before it was ready; the old one still "
			       "serves",
			       WIFEXITED(ws) ? WEXITSTATUS(ws)
					     : 128 + WTERMSIG(ws));
		return true;
	}
	if (pid == s->old.pid) {
		net_tap_delete(s->netns, s->old.tap);
		s->old.pid = 0;
		s->old_kill_at = 0;
		kv_set(&s->state, "draining", "0");
		/* ps's counters are the new guest's from here on, not the
		 * old one's last report. */
		kv_setf(&s->state, "log_from", "%lld",
			(long long)sup_log_size(s));
		sup_save(s);
		sup_log(s, "replace: the old guest stopped (status %d)",
			WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws));
		return true;
	}
	return false;
}

void rep_abort(struct sup *s)
{
	uint64_t now = cli_mono_ms();
	if (s->next.pid) {
		kill(s->next.pid, SIGKILL);
		result(s, "error: the guest is stopping");
		s->ready_by = UINT64_MAX;
	}
	if (s->old.pid) {
		kill(s->old.pid, SIGTERM);
		s->old_term_at = 0;
		s->old_kill_at = now + sup_grace_ms(s);
	}
}

uint64_t rep_next_ms(const struct sup *s, uint64_t now)
{
	uint64_t at = UINT64_MAX;
	if (s->next.pid)
		return 20;
	if (s->old.pid && s->old_term_at)
		at = s->old_term_at;
	if (s->old.pid && s->old_kill_at && s->old_kill_at < at)
		at = s->old_kill_at;
	if (at == UINT64_MAX)
		return at;
	return at > now ? at - now : 0;
}

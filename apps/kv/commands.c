/*
 * The commands: Redis's semantics and reply texts for the ones a cache or
 * store user needs, on the log store.  A read-modify-write (INCR, EXPIRE,
 * SET ... GET) reads the key's version with its value and puts only if the
 * version is still the same, retrying otherwise: fibers interleave at every
 * device wait, and no lock is held across one.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kv_app.h"

struct kv_app kv_app;

#define ARG(c, i) (c)->argv[i], (c)->len[i]

static int put(struct kv_session *session, const char *key, size_t klen,
	       const char *val, size_t vlen, int64_t expire_ms, unsigned flags,
	       uint64_t version)
{
	uint32_t t;
	int rc = kv_log_put_async(kv_app.store, key, klen, val, vlen, expire_ms,
				  flags, version, &t);
	if (rc == 0) {
		session->ticket = t;
		session->pending = true;
	}
	return rc;
}

static int del(struct kv_session *session, const char *key, size_t klen)
{
	uint32_t t;
	int rc = kv_log_del_async(kv_app.store, key, klen, &t);
	if (rc == 0) {
		session->ticket = t;
		session->pending = true;
	}
	return rc;
}

static void store_error(struct resp_out *o, long rc)
{
	char msg[96];
	if (rc == -ENOSPC) {
		resp_error(o, "OOM command not allowed when used memory > "
			      "'maxmemory'.");
		return;
	}
	if (rc == -EINVAL) {
		snprintf(msg, sizeof msg,
			 "ERR string exceeds maximum allowed size (%u bytes in "
			 "this store)",
			 (unsigned)KV_LOG_VALUE_MAX);
	} else {
		snprintf(msg, sizeof msg, "ERR the store failed: %s",
			 strerror((int)-rc));
	}
	resp_error(o, msg);
}

static bool arg_is(const struct resp_cmd *c, int i, const char *word)
{
	return c->len[i] == strlen(word) &&
	       strncasecmp(c->argv[i], word, c->len[i]) == 0;
}

static void not_integer(struct resp_out *o)
{
	resp_error(o, "ERR value is not an integer or out of range");
}

/* key's value as a bulk reply (null if absent). */
static void reply_value(struct resp_out *o, const char *key, size_t klen)
{
	for (;;) {
		long n =
		    kv_log_get(kv_app.store, key, klen, NULL, 0, NULL, NULL);
		if (n == -ENOENT) {
			resp_null(o);
			return;
		}
		if (n < 0) {
			store_error(o, n);
			return;
		}
		char *d = resp_reserve(o, (size_t)n + 32);
		if (!d)
			return;
		int h = snprintf(d, 32, "$%ld\r\n", n);
		long m = kv_log_get(kv_app.store, key, klen, d + h, (size_t)n,
				    NULL, NULL);
		if (m == -ENOENT) {
			resp_null(o);
			return;
		}
		if (m < 0) {
			store_error(o, m);
			return;
		}
		if (m != n)
			continue; /* changed while this fiber waited */
		memcpy(d + h + n, "\r\n", 2);
		o->len += (size_t)h + (size_t)n + 2;
		return;
	}
}

/* key's whole value in a new buffer: its length, -ENOENT or an error. */
static long fetch(const char *key, size_t klen, char **val, int64_t *exp,
		  uint64_t *ver)
{
	for (;;) {
		long n = kv_log_get(kv_app.store, key, klen, NULL, 0, exp, ver);
		if (n < 0)
			return n;
		*val = malloc((size_t)n + 1);
		if (!*val)
			return -ENOMEM;
		long m = kv_log_get(kv_app.store, key, klen, *val, (size_t)n,
				    exp, ver);
		if (m == n)
			return m;
		free(*val);
		if (m < 0)
			return m;
	}
}

static void cmd_get(const struct resp_cmd *c, struct resp_out *o,
		    struct kv_session *k)
{
	reply_value(o, ARG(c, 1));
}

/* SET's expiry option value: ms since the epoch in *at, or false after
 * replying with the error. */
static bool expiry(const struct resp_cmd *c, int i, long long unit,
		   bool absolute, const char *cmd, struct resp_out *o,
		   int64_t *at)
{
	long long v;
	if (!resp_to_ll(ARG(c, i), &v)) {
		not_integer(o);
		return false;
	}
	int64_t now = kv_log_now_ms();
	char msg[64];
	snprintf(msg, sizeof msg, "ERR invalid expire time in '%s' command",
		 cmd);
	if (v <= 0 || v > LLONG_MAX / unit ||
	    (!absolute && v * unit > LLONG_MAX - now)) {
		resp_error(o, msg);
		return false;
	}
	*at = absolute ? v * unit : now + v * unit;
	return true;
}

static void cmd_set(const struct resp_cmd *c, struct resp_out *o,
		    struct kv_session *k)
{
	unsigned flags = 0;
	bool keepttl = false, get = false, has_exp = false;
	int64_t at = 0;

	for (int i = 3; i < c->argc; i++) {
		bool more = i + 1 < c->argc;
		if (arg_is(c, i, "NX") && !(flags & KV_PUT_XX)) {
			flags |= KV_PUT_NX;
		} else if (arg_is(c, i, "XX") && !(flags & KV_PUT_NX)) {
			flags |= KV_PUT_XX;
		} else if (arg_is(c, i, "GET")) {
			get = true;
		} else if (arg_is(c, i, "KEEPTTL") && !has_exp) {
			keepttl = true;
		} else if (more && !has_exp && !keepttl &&
			   (arg_is(c, i, "EX") || arg_is(c, i, "PX") ||
			    arg_is(c, i, "EXAT") || arg_is(c, i, "PXAT"))) {
			bool px = c->argv[i][0] == 'p' || c->argv[i][0] == 'P';
			if (!expiry(c, i + 1, px ? 1 : 1000, c->len[i] == 4,
				    "set", o, &at))
				return;
			has_exp = true;
			i++;
		} else {
			resp_error(o, "ERR syntax error");
			return;
		}
	}
	for (;;) {
		char *old = NULL;
		int64_t exp = 0;
		uint64_t ver = 0;
		long n = 0;
		if (get || keepttl) {
			n = fetch(ARG(c, 1), &old, &exp, &ver);
			if (n < 0 && n != -ENOENT) {
				store_error(o, n);
				return;
			}
		}
		unsigned f = flags | (get || keepttl ? KV_PUT_IF_VERSION : 0);
		int rc =
		    put(k, ARG(c, 1), ARG(c, 2), keepttl ? exp : at, f, ver);
		if (rc == -EAGAIN) {
			free(old);
			continue;
		}
		if (rc == -EEXIST || rc == -ENOENT) {
			if (get && old)
				resp_bulk(o, old, (size_t)n);
			else
				resp_null(o);
		} else if (rc < 0) {
			store_error(o, rc);
		} else if (get) {
			if (old)
				resp_bulk(o, old, (size_t)n);
			else
				resp_null(o);
		} else {
			resp_simple(o, "OK");
		}
		free(old);
		return;
	}
}

static void cmd_del(const struct resp_cmd *c, struct resp_out *o,
		    struct kv_session *k)
{
	long long n = 0;
	for (int i = 1; i < c->argc; i++) {
		int rc = del(k, ARG(c, i));
		if (rc == 0)
			n++;
		else if (rc != -ENOENT) {
			store_error(o, rc);
			return;
		}
	}
	resp_int(o, n);
}

static void cmd_exists(const struct resp_cmd *c, struct resp_out *o,
		       struct kv_session *k)
{
	long long n = 0;
	for (int i = 1; i < c->argc; i++)
		n += kv_log_get(kv_app.store, ARG(c, i), NULL, 0, NULL, NULL) >=
		     0;
	resp_int(o, n);
}

static void incr_by(const struct resp_cmd *c, struct resp_out *o,
		    struct kv_session *k, long long by)
{
	for (;;) {
		char buf[24];
		int64_t exp = 0;
		uint64_t ver = 0;
		long long v = 0;
		long n = kv_log_get(kv_app.store, ARG(c, 1), buf, sizeof buf,
				    &exp, &ver);
		if (n < 0 && n != -ENOENT) {
			store_error(o, n);
			return;
		}
		if (n >= 0 && (n > 20 || !resp_to_ll(buf, (size_t)n, &v))) {
			not_integer(o);
			return;
		}
		if ((by > 0 && v > LLONG_MAX - by) ||
		    (by < 0 && v < LLONG_MIN - by)) {
			resp_error(o, "ERR increment or decrement would "
				      "overflow");
			return;
		}
		v += by;
		int len = snprintf(buf, sizeof buf, "%lld", v);
		int rc = put(k, ARG(c, 1), buf, (size_t)len, n >= 0 ? exp : 0,
			     KV_PUT_IF_VERSION, ver);
		if (rc == -EAGAIN)
			continue;
		if (rc < 0) {
			store_error(o, rc);
			return;
		}
		resp_int(o, v);
		return;
	}
}

static void cmd_incr(const struct resp_cmd *c, struct resp_out *o,
		     struct kv_session *k)
{
	incr_by(c, o, k, 1);
}

static void cmd_decr(const struct resp_cmd *c, struct resp_out *o,
		     struct kv_session *k)
{
	incr_by(c, o, k, -1);
}

static void cmd_incrby(const struct resp_cmd *c, struct resp_out *o,
		       struct kv_session *k)
{
	long long by;
	if (!resp_to_ll(ARG(c, 2), &by)) {
		not_integer(o);
		return;
	}
	incr_by(c, o, k, by);
}

static void cmd_decrby(const struct resp_cmd *c, struct resp_out *o,
		       struct kv_session *k)
{
	long long by;
	if (!resp_to_ll(ARG(c, 2), &by) || by == LLONG_MIN) {
		if (by == LLONG_MIN)
			resp_error(o, "ERR decrement would overflow");
		else
			not_integer(o);
		return;
	}
	incr_by(c, o, k, -by);
}

static void cmd_mget(const struct resp_cmd *c, struct resp_out *o,
		     struct kv_session *k)
{
	resp_array(o, c->argc - 1);
	for (int i = 1; i < c->argc; i++)
		reply_value(o, ARG(c, i));
}

static bool arity_error(const char *name, struct resp_out *o)
{
	char msg[96];
	snprintf(msg, sizeof msg,
		 "ERR wrong number of arguments for '%s' command", name);
	resp_error(o, msg);
	return false;
}

static void cmd_mset(const struct resp_cmd *c, struct resp_out *o,
		     struct kv_session *k)
{
	if (c->argc % 2 == 0) {
		arity_error("mset", o);
		return;
	}
	for (int i = 1; i < c->argc; i += 2) {
		int rc = put(k, ARG(c, i), ARG(c, i + 1), 0, 0, 0);
		if (rc < 0) {
			store_error(o, rc);
			return;
		}
	}
	resp_simple(o, "OK");
}

/* EXPIRE and PEXPIRE, with Redis 7's NX, XX, GT and LT. */
static void expire(const struct resp_cmd *c, struct resp_out *o,
		   struct kv_session *k, long long unit, const char *name)
{
	long long v;
	bool nx = false, xx = false, gt = false, lt = false;
	for (int i = 3; i < c->argc; i++) {
		if (arg_is(c, i, "NX"))
			nx = true;
		else if (arg_is(c, i, "XX"))
			xx = true;
		else if (arg_is(c, i, "GT"))
			gt = true;
		else if (arg_is(c, i, "LT"))
			lt = true;
		else {
			char msg[80];
			snprintf(msg, sizeof msg, "ERR Unsupported option %.*s",
				 (int)(c->len[i] < 40 ? c->len[i] : 40),
				 c->argv[i]);
			resp_error(o, msg);
			return;
		}
	}
	if ((nx && (xx || gt || lt)) || (gt && lt)) {
		resp_error(o,
			   "ERR NX and XX, GT or LT options at the same time "
			   "are not compatible");
		return;
	}
	if (!resp_to_ll(ARG(c, 2), &v)) {
		not_integer(o);
		return;
	}
	int64_t now = kv_log_now_ms();
	if (v > LLONG_MAX / unit || v < LLONG_MIN / unit ||
	    (v > 0 && v * unit > LLONG_MAX - now)) {
		char msg[64];
		snprintf(msg, sizeof msg,
			 "ERR invalid expire time in '%s' command", name);
		resp_error(o, msg);
		return;
	}
	int64_t at = now + v * unit;
	for (;;) {
		char *val;
		int64_t exp;
		uint64_t ver;
		long n = fetch(ARG(c, 1), &val, &exp, &ver);
		if (n == -ENOENT) {
			resp_int(o, 0);
			return;
		}
		if (n < 0) {
			store_error(o, n);
			return;
		}
		/* No expiry counts as an infinite one for GT and LT. */
		bool skip = (nx && exp) || (xx && !exp) ||
			    (gt && (!exp || at <= exp)) ||
			    (lt && exp && at >= exp);
		int rc = 0;
		if (!skip && at <= now)
			rc = del(k, ARG(c, 1));
		else if (!skip)
			rc = put(k, ARG(c, 1), val, (size_t)n, at,
				 KV_PUT_IF_VERSION, ver);
		free(val);
		if (rc == -EAGAIN || (rc == -ENOENT && !skip))
			continue;
		if (rc < 0) {
			store_error(o, rc);
			return;
		}
		resp_int(o, !skip);
		return;
	}
}

static void cmd_expire(const struct resp_cmd *c, struct resp_out *o,
		       struct kv_session *k)
{
	expire(c, o, k, 1000, "expire");
}

static void cmd_pexpire(const struct resp_cmd *c, struct resp_out *o,
			struct kv_session *k)
{
	expire(c, o, k, 1, "pexpire");
}

static void ttl(const struct resp_cmd *c, struct resp_out *o, bool ms)
{
	int64_t exp;
	long n = kv_log_get(kv_app.store, ARG(c, 1), NULL, 0, &exp, NULL);
	if (n == -ENOENT) {
		resp_int(o, -2);
		return;
	}
	if (n < 0) {
		store_error(o, n);
		return;
	}
	if (!exp) {
		resp_int(o, -1);
		return;
	}
	int64_t left = exp - kv_log_now_ms();
	if (left < 0)
		left = 0;
	resp_int(o, ms ? left : (left + 500) / 1000);
}

static void cmd_ttl(const struct resp_cmd *c, struct resp_out *o,
		    struct kv_session *k)
{
	ttl(c, o, false);
}

static void cmd_pttl(const struct resp_cmd *c, struct resp_out *o,
		     struct kv_session *k)
{
	ttl(c, o, true);
}

static void cmd_ping(const struct resp_cmd *c, struct resp_out *o,
		     struct kv_session *k)
{
	if (c->argc > 2)
		arity_error("ping", o);
	else if (c->argc == 2)
		resp_bulk(o, ARG(c, 1));
	else
		resp_simple(o, "PONG");
}

static void cmd_echo(const struct resp_cmd *c, struct resp_out *o,
		     struct kv_session *k)
{
	resp_bulk(o, ARG(c, 1));
}

static void cmd_dbsize(const struct resp_cmd *c, struct resp_out *o,
		       struct kv_session *k)
{
	resp_int(o, (long long)kv_log_count(kv_app.store));
}

static void cmd_select(const struct resp_cmd *c, struct resp_out *o,
		       struct kv_session *k)
{
	long long db;
	if (!resp_to_ll(ARG(c, 1), &db)) {
		not_integer(o);
		return;
	}
	if (db != 0)
		resp_error(o, "ERR DB index is out of range");
	else
		resp_simple(o, "OK");
}

static void cmd_info(const struct resp_cmd *c, struct resp_out *o,
		     struct kv_session *k)
{
	struct kv_log_stats st;
	kv_log_stats(kv_app.store, &st);
	char text[1536];
	int64_t up = (kv_log_now_ms() - (int64_t)kv_app.started_ms) / 1000;
	int n = snprintf(
	    text, sizeof text,
	    "# Server\r\nredis_version:7.0.0\r\nredis_mode:standalone\r\n"
	    "server_name:ingot-kv\r\nuptime_in_seconds:%lld\r\n\r\n"
	    "# Clients\r\nconnected_clients:%llu\r\n\r\n"
	    "# Persistence\r\nloading:0\r\naof_enabled:1\r\n"
	    "aof_fsync:%s\r\nrecovered_records:%llu\r\n"
	    "recovered_corrupt_skipped:%llu\r\n"
	    "recovered_tail_dropped:%llu\r\n\r\n"
	    "# Stats\r\ntotal_connections_received:%llu\r\n"
	    "total_commands_processed:%llu\r\nrejected_connections:%llu\r\n"
	    "expired_keys:%llu\r\n\r\n"
	    "# Store\r\nstore_segments:%u\r\nstore_free_segments:%u\r\n"
	    "store_live_bytes:%llu\r\nstore_capacity_bytes:%llu\r\n"
	    "store_commits:%llu\r\nstore_records_written:%llu\r\n"
	    "store_compactions:%llu\r\nstore_records_moved:%llu\r\n"
	    "store_reads_memory:%llu\r\nstore_reads_device:%llu\r\n\r\n"
	    "# Keyspace\r\n",
	    (long long)up, (unsigned long long)kv_app.connected, "always",
	    (unsigned long long)st.recovered,
	    (unsigned long long)st.recovered_corrupt,
	    (unsigned long long)st.recovered_dropped,
	    (unsigned long long)kv_app.connections,
	    (unsigned long long)kv_app.commands,
	    (unsigned long long)kv_app.rejected, (unsigned long long)st.expired,
	    st.segments, st.free_segments, (unsigned long long)st.live_bytes,
	    (unsigned long long)st.capacity_bytes,
	    (unsigned long long)st.commits,
	    (unsigned long long)st.records_written,
	    (unsigned long long)st.compactions,
	    (unsigned long long)st.records_moved,
	    (unsigned long long)st.reads_memory,
	    (unsigned long long)st.reads_device);
	if (st.keys && n < (int)sizeof text)
		n += snprintf(text + n, sizeof text - (size_t)n,
			      "db0:keys=%llu,expires=0,avg_ttl=0\r\n",
			      (unsigned long long)st.keys);
	(void)c;
	resp_bulk(o, text, (size_t)n < sizeof text ? (size_t)n : sizeof text);
}

static void unknown_subcommand(const struct resp_cmd *c, struct resp_out *o,
			       const char *cmd)
{
	char msg[200];
	snprintf(msg, sizeof msg, "ERR unknown subcommand '%.*s'. Try %s HELP.",
		 (int)(c->len[1] < 128 ? c->len[1] : 128), c->argv[1], cmd);
	resp_error(o, msg);
}

/* CONFIG GET, for clients that look before they start (redis-benchmark
 * asks for save and appendonly): what this store does, in Redis's
 * names. */
static void cmd_config(const struct resp_cmd *c, struct resp_out *o,
		       struct kv_session *k)
{
	static const char *const params[][2] = {
	    {"appendonly", "yes"},
	    {"appendfsync", "always"},
	    {"save", ""},
	    {"databases", "1"},
	};
	if (!arg_is(c, 1, "GET")) {
		unknown_subcommand(c, o, "CONFIG");
		return;
	}
	if (c->argc < 3) {
		arity_error("config|get", o);
		return;
	}
	int n = 0;
	const char *hit[8][2];
	for (size_t p = 0; p < sizeof params / sizeof params[0]; p++)
		for (int i = 2; i < c->argc; i++)
			if ((c->len[i] == 1 && c->argv[i][0] == '*') ||
			    arg_is(c, i, params[p][0])) {
				hit[n][0] = params[p][0];
				hit[n++][1] = params[p][1];
				break;
			}
	resp_array(o, 2 * n);
	for (int i = 0; i < n; i++) {
		resp_bulk(o, hit[i][0], strlen(hit[i][0]));
		resp_bulk(o, hit[i][1], strlen(hit[i][1]));
	}
}

static void cmd_command(const struct resp_cmd *c, struct resp_out *o,
			struct kv_session *k);

static void cmd_quit(const struct resp_cmd *c, struct resp_out *o,
		     struct kv_session *k)
{
	resp_simple(o, "OK");
}

struct command {
	const char *name;
	int arity; /* Redis's: n exactly, or -n at least */
	void (*fn)(const struct resp_cmd *c, struct resp_out *o,
		   struct kv_session *k);
};

static const struct command commands[] = {
    {"get", 2, cmd_get},          {"set", -3, cmd_set},
    {"del", -2, cmd_del},         {"exists", -2, cmd_exists},
    {"incr", 2, cmd_incr},        {"decr", 2, cmd_decr},
    {"incrby", 3, cmd_incrby},    {"decrby", 3, cmd_decrby},
    {"mget", -2, cmd_mget},       {"mset", -3, cmd_mset},
    {"expire", -3, cmd_expire},   {"pexpire", -3, cmd_pexpire},
    {"ttl", 2, cmd_ttl},          {"pttl", 2, cmd_pttl},
    {"ping", -1, cmd_ping},       {"echo", 2, cmd_echo},
    {"dbsize", 1, cmd_dbsize},    {"select", 2, cmd_select},
    {"info", -1, cmd_info},       {"config", -2, cmd_config},
    {"command", -1, cmd_command}, {"quit", -1, cmd_quit},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* COMMAND: the count, and empty answers where redis-cli asks for docs
 * (it then works without hints). */
static void cmd_command(const struct resp_cmd *c, struct resp_out *o,
			struct kv_session *k)
{
	if (c->argc == 1 || arg_is(c, 1, "DOCS") || arg_is(c, 1, "INFO"))
		resp_array(o, 0);
	else if (arg_is(c, 1, "COUNT"))
		resp_int(o, (long long)NCOMMANDS);
	else
		unknown_subcommand(c, o, "COMMAND");
}

/* Redis's words for a command it does not know, to the byte. */
static void unknown(const struct resp_cmd *c, struct resp_out *o,
		    struct kv_session *k)
{
	char args[300] = "", msg[512];
	size_t n = 0;
	for (int i = 1; i < c->argc && n < 128; i++) {
		int room = 128 - (int)n;
		int len = (int)c->len[i] < room ? (int)c->len[i] : room;
		n += (size_t)snprintf(args + n, sizeof args - n, "'%.*s' ", len,
				      c->argv[i]);
	}
	int len = (int)(c->len[0] < 128 ? c->len[0] : 128);
	snprintf(msg, sizeof msg,
		 "ERR unknown command '%.*s', with args beginning with: %s",
		 len, c->argv[0], args);
	for (char *p = msg; *p; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	resp_error(o, msg);
}

bool kv_command(const struct resp_cmd *c, struct resp_out *o,
		struct kv_session *k)
{
	kv_app.commands++;
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const struct command *cmd = &commands[i];
		if (!arg_is(c, 0, cmd->name))
			continue;
		if ((cmd->arity > 0 && c->argc != cmd->arity) ||
		    (cmd->arity < 0 && c->argc < -cmd->arity)) {
			arity_error(cmd->name, o);
			return true;
		}
		cmd->fn(c, o, k);
		return cmd->fn != cmd_quit;
	}
	unknown(c, o, k);
	return true;
}

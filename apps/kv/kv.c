/*
 * kv: a key-value appliance that speaks the Redis protocol (RESP2) on TCP
 * port 6379, durable on the log store (lib/kv) of the block device "data".
 *
 *   truncate -s 64M data.img     (zeros: formatted at first boot)
 *   ingot-kvm --mem 128M --net service=TAP --block data=data.img \
 *       build/kvm/kv.kvm --ipv4=ADDR/PREFIX
 *   redis-cli -h ADDR set greeting hello
 *
 * Every change is acknowledged once written and flushed (appendfsync
 * always); connections share each write and flush (group commit).  A
 * fiber serves each connection: it runs every complete request it has
 * read, in order (each sees the ones before), waits until their changes
 * are durable, then sends the replies in one write.  A protocol error
 * gets Redis's message and closes the connection, as Redis does; an
 * unknown command gets Redis's error and the connection stays.
 */
#include <errno.h>
#include <ingot/abi.h>
#include <ingot/blk.h>
#include <ingot/net.h>
#include <ingot/sched.h>
#include <ingot/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv_app.h"

INGOT_DEVICE(INGOT_DEVICE_NET, service);
INGOT_DEVICE(INGOT_DEVICE_BLOCK, data);

#define PORT     6379
#define IN_START (16 * 1024)
#define IN_MAX   (2 * RESP_BULK_MAX)

struct conn {
	struct tcp_conn *tcp;
	char *in;
	size_t used, cap;
	struct resp_out out;
	struct resp_cmd cmd;
	struct kv_session session;
};

static bool flush_out(struct conn *k)
{
	bool ok = !k->out.failed &&
		  (k->out.len == 0 || tcp_write(k->tcp, k->out.buf, k->out.len,
						UINT64_MAX) == (int)k->out.len);
	k->out.len = 0;
	return ok;
}

/* Runs the complete requests in the buffer: false to close. */
static bool run_requests(struct conn *k)
{
	size_t at = 0;
	bool open = true;
	while (open && at < k->used) {
		const char *err;
		long n = resp_parse(k->in + at, k->used - at, &k->cmd, &err);
		if (n == 0)
			break;
		if (n < 0) {
			char msg[128];
			snprintf(msg, sizeof msg, "ERR %s", err);
			resp_error(&k->out, msg);
			open = false;
			break;
		}
		if (k->cmd.argc)
			open = kv_command(&k->cmd, &k->out, &k->session);
		at += (size_t)n;
	}
	memmove(k->in, k->in + at, k->used - at);
	k->used -= at;
	/* The replies go once every change they report is durable; if the
	 * store failed instead, none goes (no acknowledgement is false). */
	if (k->session.pending) {
		k->session.pending = false;
		if (kv_log_sync(kv_app.store, k->session.ticket) < 0)
			return false;
	}
	return flush_out(k) && open;
}

static void serve(void *arg)
{
	struct conn *k = calloc(1, sizeof *k);
	if (!k || !(k->in = malloc(IN_START))) {
		tcp_close(arg);
		free(k);
		return;
	}
	k->tcp = arg;
	k->cap = IN_START;
	kv_app.connected++;
	tcp_set_nodelay(k->tcp, true);
	for (;;) {
		if (k->used == k->cap) {
			char *in =
			    k->cap < IN_MAX ? realloc(k->in, 2 * k->cap) : NULL;
			if (!in) {
				resp_error(&k->out, "ERR Protocol error: too "
						    "big request");
				flush_out(k);
				break;
			}
			k->in = in;
			k->cap *= 2;
		}
		int n = tcp_read(k->tcp, k->in + k->used, k->cap - k->used,
				 UINT64_MAX);
		if (n <= 0)
			break;
		k->used += (size_t)n;
		if (!run_requests(k))
			break;
	}
	kv_app.connected--;
	tcp_close(k->tcp);
	free(k->in);
	free(k->out.buf);
	free(k);
}

static void acceptor(void *arg)
{
	struct tcp_listener *l = arg;
	for (;;) {
		struct tcp_conn *c = tcp_accept(l, UINT64_MAX, NULL);
		if (!c)
			continue;
		kv_app.connections++;
		if (sched_spawn(serve, c, "kv-conn") < 0) {
			kv_app.rejected++;
			tcp_close(c); /* no fiber free */
		}
	}
}

static void report(void)
{
	struct kv_log_stats st;
	kv_log_stats(kv_app.store, &st);
	printf("kv: %llu keys, %llu commands, %llu commits of %llu records, "
	       "%llu compactions, %llu values read from memory and %llu from "
	       "the device\n",
	       (unsigned long long)st.keys, (unsigned long long)kv_app.commands,
	       (unsigned long long)st.commits,
	       (unsigned long long)st.records_written,
	       (unsigned long long)st.compactions,
	       (unsigned long long)st.reads_memory,
	       (unsigned long long)st.reads_device);
}

int ingot_main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") != 0 &&
		    strncmp(argv[i], "--ipv4", 6) != 0) {
			fprintf(stderr, "usage: kv [--ipv4=ADDR/PREFIX|dhcp] "
					"[--ipv4-gateway=ADDR]\n");
			return 2;
		}
	struct blk_dev *d = blk_open("data");
	if (!d) {
		fprintf(stderr, "kv: no block device 'data' (ingot-kvm --block "
				"data=FILE)\n");
		return 1;
	}
	/* Five sixteenths of the heap for the index, which keeps values of
	 * up to 64 bytes with their keys (so reading one never waits for
	 * the device): KV_LOG_ENTRY_BYTES per slot at 3/4 load, and a key
	 * of up to 32 bytes with such a value in a block of 112. */
	const struct ingot_boot_info *bi = ingot_boot_info();
	struct kv_log_options opts = {.max_keys =
					  bi->heap_size / 16 * 5 /
					  (KV_LOG_ENTRY_BYTES * 4 / 3 + 112),
				      .flush = true,
				      .inline_max = 64,
				      .hold_for_commit = true};
	char err[160];
	int rc = kv_log_mount(d, &opts, &kv_app.store, err, sizeof err);
	if (rc < 0) {
		fprintf(stderr, "kv: cannot mount the store on 'data': %s\n",
			err);
		return 1;
	}
	struct kv_log_stats st;
	kv_log_stats(kv_app.store, &st);
	printf("kv: store of %u segments, %llu keys (%llu records replayed, "
	       "%llu corrupt skipped, %llu dropped from a torn tail); room "
	       "for %zu keys\n",
	       st.segments, (unsigned long long)st.keys,
	       (unsigned long long)st.recovered,
	       (unsigned long long)st.recovered_corrupt,
	       (unsigned long long)st.recovered_dropped, opts.max_keys);
	kv_app.started_ms = (uint64_t)kv_log_now_ms();
	if (net_start(argc, argv) < 0)
		return 1;
	int e;
	struct tcp_listener *l = tcp_listen(PORT, 128, &e);
	if (!l) {
		fprintf(stderr, "kv: tcp port %u: %s\n", PORT, strerror(-e));
		return 1;
	}
	sched_on_report(report);
	sched_spawn(acceptor, l, "kv-accept");
	printf("kv: serving RESP on TCP port %u\n", PORT);
	fflush(stdout);
	return sched_run();
}

/* apps/kv internals: the store, the commands, the counters. */
#ifndef KV_APP_H
#define KV_APP_H

#include <ingot/kv.h>
#include <stdbool.h>

#include "resp.h"

struct kv_app {
	struct kv_log *store;
	uint64_t commands, connections, connected, rejected;
	uint64_t started_ms;
};

extern struct kv_app kv_app;

/* What a connection's changes wait for before their replies go out: the
 * store's ticket of the last one (kv_log_sync). */
struct kv_session {
	uint32_t ticket;
	bool pending;
};

/* Runs one request, appending its reply; false if the connection is to
 * close after the reply (QUIT).  Changes are made at once and become
 * durable later: the caller syncs on the session before it sends. */
bool kv_command(const struct resp_cmd *c, struct resp_out *o,
		struct kv_session *k);

#endif

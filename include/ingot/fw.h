/*
 * fw: a stateful IPv4 packet filter.  Rules come from a file compiled into
 * C at build time by tools/rules2c (the format: README, "Firewall rules");
 * the image's ruleset is fw_rules.  Evaluation is first match over the
 * rules, default deny.  A pass rule with "keep state" creates a flow; the
 * flow's later packets, its replies and the ICMP errors about it pass
 * without rule evaluation, for as long as the flow lives (timeouts per
 * state, close to Linux conntrack's; README).
 *
 * The flow table holds CONFIG_FW_FLOWS flows (ingot/options.h), allocated
 * statically.  When it is full, a new flow takes the place of the oldest
 * flow that is not assured (TCP before the handshake completes or after it
 * closes, UDP and ICMP without a reply); when every flow is assured, the
 * new one is refused and its packet dropped.  Assured flows are never
 * evicted, only expired.
 *
 * Nothing here allocates or blocks; fw_filter runs in the receive path.
 * The library reads packets only, it never writes them.
 */
#ifndef INGOT_FW_H
#define INGOT_FW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fw_ruleset;                       /* layout: lib/fw/ruleset.h */
extern const struct fw_ruleset fw_rules; /* the image's, from tools/rules2c */

/*
 * Takes ruleset rs into use and forgets every flow and counter.  The rules
 * name interfaces; they are bound to the device indices 0..nifs-1 by name
 * (if_name(i) is device i's).  Returns 0, or -ENODEV (with a message on
 * stderr) when a rule names an interface that no device has.  seed keys the
 * flow table's hash (a fresh random value per boot).
 */
int fw_init(const struct fw_ruleset *rs, unsigned nifs,
	    const char *(*if_name)(unsigned), uint64_t seed);

/* What fw_filter decided, and why. */
enum fw_verdict {
	FW_PASS_RULE,      /* a pass rule matched */
	FW_PASS_STATE,     /* a packet of a flow */
	FW_PASS_RELATED,   /* an ICMP error about a flow */
	FW_DROP_RULE,      /* a block rule matched */
	FW_DROP_DEFAULT,   /* no rule matched */
	FW_DROP_STATE,     /* a TCP packet its flow's state does not allow */
	FW_DROP_WINDOW,    /* a TCP segment outside its flow's windows */
	FW_DROP_FULL,      /* a new flow found the table full of assured ones */
	FW_DROP_MALFORMED, /* a header too short or inconsistent */
	FW_DROP_FRAGMENT,  /* a fragment (datagrams come reassembled) */
	FW_VERDICTS
};

static inline bool fw_passes(enum fw_verdict v)
{
	return v < FW_DROP_RULE;
}

/* "pass-rule", "drop-default", ...: the names the report uses. */
const char *fw_verdict_name(enum fw_verdict v);

/*
 * Decides on the IPv4 datagram ip[0..len) (its header first) that came in
 * on device in_if and would leave on out_if (-1: addressed to the guest
 * itself); of a TCP segment the host coalesced, len may cover only the
 * headers (include/ingot/net.h), at monotonic time now (ns).  Counts it against
 * the rule that matched, or the flow, or the drop reason.
 */
enum fw_verdict fw_filter(const uint8_t *ip, size_t len, int in_if, int out_if,
			  uint64_t now);

/* Removes flows whose time ran out, looking at up to budget flows from
 * where the last call stopped (lookups also drop an expired flow they
 * find; this returns the space of those nothing looks up). */
void fw_expire(uint64_t now, unsigned budget);

struct fw_stats {
	uint64_t verdicts[FW_VERDICTS]; /* packets by verdict */
	uint64_t flows_created;
	uint64_t flows_expired; /* timed out, or closed and its ports reused */
	uint64_t flows_evicted; /* replaced, unassured, by a new flow */
	unsigned flows_live, flows_assured, flows_max;
};

void fw_get_stats(struct fw_stats *st);

/* Prints every rule's counters (packets, bytes), the default's, the
 * verdicts and the flow table's numbers to standard output. */
void fw_print_counters(void);

#endif

/*
 * The filter: a packet of a flow passes by its state, an ICMP error about
 * a flow passes as related, anything else is decided by the first rule
 * that matches (none: dropped).  A pass rule with keep state makes the
 * packet's flow.
 */
#include <stdio.h>

#include "fw_internal.h"

static const char *const verdict_names[FW_VERDICTS] = {
    [FW_PASS_RULE] = "pass-rule",
    [FW_PASS_STATE] = "pass-state",
    [FW_PASS_RELATED] = "pass-related",
    [FW_DROP_RULE] = "drop-rule",
    [FW_DROP_DEFAULT] = "drop-default",
    [FW_DROP_STATE] = "drop-state",
    [FW_DROP_WINDOW] = "drop-window",
    [FW_DROP_FULL] = "drop-full",
    [FW_DROP_MALFORMED] = "drop-malformed",
    [FW_DROP_FRAGMENT] = "drop-fragment",
};

const char *fw_verdict_name(enum fw_verdict v)
{
	return (unsigned)v < FW_VERDICTS ? verdict_names[v] : "?";
}

static enum fw_verdict by_rules(const struct fw_view *v, int in_if, int out_if,
				uint64_t now)
{
	int i = fw_match(v, in_if, out_if);
	unsigned c = i < 0 ? fw_active->nrules : (unsigned)i;
	fw_active->counters[c].packets++;
	fw_active->counters[c].bytes += v->bytes;
	if (i < 0)
		return FW_DROP_DEFAULT;
	const struct fw_rule *r = &fw_active->rules[i];
	if (r->action != FW_ACTION_PASS)
		return FW_DROP_RULE;
	/* ICMP other than a query has no flow: it passes by the rule. */
	if (r->keep_state &&
	    (v->key.proto != FW_PROTO_ICMP || v->icmp_request)) {
		struct fw_flow *f = fw_flow_add(&v->key, now);
		if (!f)
			return FW_DROP_FULL;
		fw_track_start(f, v, now);
	}
	return FW_PASS_RULE;
}

static enum fw_verdict decide(const struct fw_view *v, int in_if, int out_if,
			      uint64_t now)
{
	int dir;
	struct fw_flow *f = fw_flow_find(&v->key, &dir, now);
	if (f) {
		switch (fw_track(f, dir, v, now)) {
		case FW_TRACK_PASS:
		case FW_TRACK_IGNORE:
			return FW_PASS_STATE;
		case FW_TRACK_INVALID:
			return FW_DROP_STATE;
		case FW_TRACK_WINDOW:
			return FW_DROP_WINDOW;
		case FW_TRACK_REOPEN:
			fw_flow_remove(f);
			fw_stats.flows_expired++;
			break;
		}
	} else if (v->icmp_error && fw_flow_find(&v->quoted, &dir, now)) {
		return FW_PASS_RELATED;
	}
	return by_rules(v, in_if, out_if, now);
}

enum fw_verdict fw_filter(const uint8_t *ip, size_t len, int in_if, int out_if,
			  uint64_t now)
{
	struct fw_view v;
	enum fw_verdict verdict = fw_parse(ip, len, &v);
	if (verdict == FW_PASS_RULE)
		verdict = decide(&v, in_if, out_if, now);
	fw_stats.verdicts[verdict]++;
	return verdict;
}

void fw_print_counters(void)
{
	const struct fw_ruleset *rs = fw_active;
	struct fw_stats st;
	if (!rs)
		return;
	fw_get_stats(&st);
	printf("fw: counters of %s:\n", rs->file);
	for (unsigned i = 0; i <= rs->nrules; i++) {
		const struct fw_counter *c = &rs->counters[i];
		if (i < rs->nrules)
			printf("  rule%u line=%u packets=%llu bytes=%llu  # "
			       "%s\n",
			       i + 1, rs->rules[i].line,
			       (unsigned long long)c->packets,
			       (unsigned long long)c->bytes, rs->rules[i].text);
		else
			printf("  default packets=%llu bytes=%llu  # block "
			       "what no rule matched\n",
			       (unsigned long long)c->packets,
			       (unsigned long long)c->bytes);
	}
	printf(" ");
	for (unsigned v = 0; v < FW_VERDICTS; v++)
		printf(" %s=%llu", verdict_names[v],
		       (unsigned long long)st.verdicts[v]);
	printf("\n  flows=%u assured=%u max=%u created=%llu expired=%llu "
	       "evicted=%llu\n",
	       st.flows_live, st.flows_assured, st.flows_max,
	       (unsigned long long)st.flows_created,
	       (unsigned long long)st.flows_expired,
	       (unsigned long long)st.flows_evicted);
}

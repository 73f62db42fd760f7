/*
 * The rules: bound to the devices by interface name at start, then read
 * first match for each packet no flow claims.  Every field of a rule is a
 * precompiled bitmap or a short run of prefixes and port ranges, so a
 * packet costs a few compares per rule and no allocation.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fw_internal.h"

const struct fw_ruleset *fw_active;

/* Devices the rules can name: the ABI's limit is 16. */
#define DEVICES_MAX 32
/* Per device, the index the rules know it by (FW_IF_ANY: no rule names
 * it). */
static uint8_t rule_if[DEVICES_MAX];

int fw_init(const struct fw_ruleset *rs, unsigned nifs,
	    const char *(*if_name)(unsigned), uint64_t seed)
{
	memset(rule_if, FW_IF_ANY, sizeof rule_if);
	for (unsigned k = 0; k < rs->nifs; k++) {
		unsigned d = 0;
		while (d < nifs && d < DEVICES_MAX &&
		       strcmp(if_name(d), rs->ifnames[k]) != 0)
			d++;
		if (d == nifs || d == DEVICES_MAX) {
			fprintf(stderr,
				"fw: %s names interface %s, which this image "
				"has not got\n",
				rs->file, rs->ifnames[k]);
			return -ENODEV;
		}
		rule_if[d] = (uint8_t)k;
	}
	memset(rs->counters, 0, (rs->nrules + 1) * sizeof *rs->counters);
	fw_active = rs;
	fw_flows_reset(seed);
	return 0;
}

static bool has_bit(const uint32_t *bits, unsigned n)
{
	return bits[n / 32] >> (n % 32) & 1;
}

static bool in_prefixes(const struct fw_list *l, uint32_t a)
{
	if (!l->count)
		return true;
	const struct fw_prefix *p = fw_active->prefixes + l->first;
	bool found = false;
	for (unsigned i = 0; i < l->count && !found; i++)
		found = (a & p[i].mask) == p[i].addr;
	return found != l->negate;
}

static bool in_ranges(const struct fw_list *l, uint16_t port)
{
	if (!l->count)
		return true;
	const struct fw_range *r = fw_active->ranges + l->first;
	bool found = false;
	for (unsigned i = 0; i < l->count && !found; i++)
		found = port >= r[i].lo && port <= r[i].hi;
	return found != l->negate;
}

static uint8_t device(int dev)
{
	return dev >= 0 && dev < DEVICES_MAX ? rule_if[dev] : FW_IF_ANY;
}

static bool on_interface(const struct fw_rule *r, uint8_t in, uint8_t out)
{
	switch (r->dir) {
	case FW_DIR_IN:
		return in == r->ifidx;
	case FW_DIR_OUT:
		return out == r->ifidx;
	default:
		return in == r->ifidx || out == r->ifidx;
	}
}

int fw_match(const struct fw_view *v, int in_if, int out_if)
{
	uint8_t in = device(in_if), out = device(out_if);
	const struct fw_key *k = &v->key;
	for (unsigned i = 0; i < fw_active->nrules; i++) {
		const struct fw_rule *r = &fw_active->rules[i];
		if (!has_bit(r->protos, k->proto))
			continue;
		if (r->ifidx != FW_IF_ANY && !on_interface(r, in, out))
			continue;
		if (k->proto == FW_PROTO_ICMP &&
		    !has_bit(r->icmp_types, v->icmp_type))
			continue;
		if (!in_prefixes(&r->src, k->src) ||
		    !in_prefixes(&r->dst, k->dst) ||
		    !in_ranges(&r->sport, v->sport) ||
		    !in_ranges(&r->dport, v->dport))
			continue;
		/* As pf's "flags S/SA": only a SYN opens a connection. */
		if (r->keep_state && k->proto == FW_PROTO_TCP &&
		    !fw_track_can_start(v))
			continue;
		return (int)i;
	}
	return -1;
}

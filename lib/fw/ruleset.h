/*
 * The compiled rules' layout: tools/rules2c writes a ruleset as C data in
 * this form at build time, lib/fw reads it.  Addresses are in host order.
 * A rule's lists (addresses, ports) are runs of the ruleset's shared arrays;
 * an empty run matches anything.
 */
#ifndef LIB_FW_RULESET_H
#define LIB_FW_RULESET_H

#include <stdint.h>

#define FW_PROTO_TCP  6
#define FW_PROTO_UDP  17
#define FW_PROTO_ICMP 1

enum fw_action { FW_ACTION_BLOCK, FW_ACTION_PASS };

/* Where a rule's interface applies: "on IF" (arriving or leaving there),
 * "in on IF" (arriving), "out on IF" (leaving). */
enum fw_dir { FW_DIR_ANY, FW_DIR_IN, FW_DIR_OUT };

#define FW_IF_ANY 0xff /* the rule names no interface */

struct fw_prefix {
	uint32_t addr, mask;
};

struct fw_range {
	uint16_t lo, hi; /* inclusive */
};

/* Entries first .. first + count - 1 of the ruleset's array; count 0 is
 * "any"; negate matches what the entries do not. */
struct fw_list {
	uint16_t first, count;
	uint8_t negate;
};

/* What one rule counts: the packets that matched it, and their bytes. */
struct fw_counter {
	uint64_t packets, bytes;
};

struct fw_rule {
	const char *text; /* as written, for the counters' report */
	uint16_t line;
	uint8_t action;          /* enum fw_action */
	uint8_t keep_state;      /* a pass rule that creates a flow */
	uint8_t dir;             /* enum fw_dir */
	uint8_t ifidx;           /* into the ruleset's ifnames, or FW_IF_ANY */
	uint32_t protos[8];      /* a bit per IP protocol number */
	uint32_t icmp_types[8];  /* a bit per ICMP type (all set: any) */
	struct fw_list src, dst; /* of prefixes */
	struct fw_list sport, dport; /* of ranges */
};

struct fw_ruleset {
	const char *file;
	const struct fw_rule *rules;
	unsigned nrules;
	const struct fw_prefix *prefixes;
	const struct fw_range *ranges;
	const char *const *ifnames; /* the interfaces the rules name */
	unsigned nifs;
	/* One per rule, then one for the default (no rule matched). */
	struct fw_counter *counters;
};

#endif

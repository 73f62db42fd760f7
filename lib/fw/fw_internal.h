/* lib/fw's own declarations: the packet view, flows, the rules' binding. */
#ifndef LIB_FW_INTERNAL_H
#define LIB_FW_INTERNAL_H

#include <ingot/fw.h>
#include <stdbool.h>
#include <stdint.h>

#include "ruleset.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10
#define TCP_URG 0x20

/* A flow's identity as one of its packets carries it.  ICMP queries put
 * their identifier and request type where the ports go, so that a reply's
 * key is its request's reversed (packet.c); query tells a request (1) from
 * a reply (2), so that a request the other way is not taken for one. */
struct fw_key {
	uint32_t src, dst;
	uint16_t sport, dport;
	uint8_t proto;
	uint8_t query;
};

/* A TCP segment's numbers for window tracking (window.c). */
struct fw_tcp_seg {
	uint32_t seq, ack;
	uint32_t end;   /* seq + its data, + 1 for SYN and for FIN */
	uint32_t sack;  /* the highest SACK block's right edge, else ack */
	uint16_t win;   /* as sent, not scaled */
	uint8_t wscale; /* the window scale option's shift (SYN only) */
	uint8_t opts;   /* FW_TCP_WSCALE, FW_TCP_SACK_PERM: options seen */
};

#define FW_TCP_WSCALE    0x01 /* the SYN asked for window scaling */
#define FW_TCP_SACK_PERM 0x02 /* the SYN allowed SACK */
#define FW_TCP_MAXACK    0x04 /* maxack holds an acknowledgement sent */

/* What the filter reads from a datagram. */
struct fw_view {
	struct fw_key key;
	uint16_t sport, dport; /* the real ports (TCP, UDP), else 0 */
	uint8_t icmp_type;
	uint8_t tcp_flags;
	bool icmp_request;    /* an ICMP query, which may open a flow */
	bool icmp_error;      /* an ICMP error quoting a datagram */
	struct fw_key quoted; /* that datagram's key */
	uint32_t bytes;       /* the datagram's total length */
	struct fw_tcp_seg tcp;
};

/* packet.c: a datagram's view; FW_PASS_RULE when it reads well, else
 * FW_DROP_MALFORMED or FW_DROP_FRAGMENT. */
enum fw_verdict fw_parse(const uint8_t *ip, size_t len, struct fw_view *v);

/* rules.c: the first rule that matches (index), or -1. */
int fw_match(const struct fw_view *v, int in_if, int out_if);
extern const struct fw_ruleset *fw_active;

/* flow.c: the table.  A flow's state is a track.c state. */
enum fw_state {
	FW_ST_UNREPLIED, /* UDP, ICMP, other protocols */
	FW_ST_REPLIED,
	FW_ST_SYN_SENT, /* TCP */
	FW_ST_SYN_RECV,
	FW_ST_ESTABLISHED,
	FW_ST_FIN_WAIT,  /* one side sent FIN */
	FW_ST_LAST_ACK,  /* both did; the last one unacknowledged */
	FW_ST_TIME_WAIT, /* closed both ways */
	FW_ST_CLOSE,     /* reset */
	FW_STATES
};

#define FW_NIL UINT32_MAX

/* One direction of a TCP flow, as its packets showed it (window.c). */
struct fw_tcp_dir {
	uint32_t end;    /* the highest sequence number sent, + 1 */
	uint32_t maxend; /* the highest the other side's window allows */
	uint32_t maxwin; /* the largest window it offered; 0: none seen */
	uint32_t maxack; /* the highest acknowledgement it sent */
	uint8_t scale;   /* its windows' shift */
	uint8_t flags;   /* FW_TCP_WSCALE, FW_TCP_SACK_PERM, FW_TCP_MAXACK */
};

/* What a SYN says of its sender's direction (window.c). */
struct fw_tcp_syn {
	uint32_t end;
	uint16_t win;
	uint8_t wscale, opts;
};

struct fw_flow {
	struct fw_key key;        /* the first packet's */
	uint64_t expires;         /* monotonic ns; 0: the slot is free */
	uint32_t chain[2];        /* next entry in its bucket, per direction */
	uint32_t prev, next;      /* in the unassured list, oldest first */
	uint8_t state;            /* enum fw_state */
	uint8_t fin;              /* bit per direction that sent FIN */
	bool listed;              /* on the unassured list */
	bool syn_ignored;         /* the last to pass was a SYN in syn */
	struct fw_tcp_dir tcp[2]; /* per direction, for TCP */
	/* The opener's SYN on the open connection, passed unchecked
	 * (track.c). */
	struct fw_tcp_syn syn;
};

void fw_flows_reset(uint64_t seed);
/* The live flow with key k in either direction (*dir: 0 the first
 * packet's, 1 the reply's), or NULL.  An expired flow found is removed. */
struct fw_flow *fw_flow_find(const struct fw_key *k, int *dir, uint64_t now);
/* A new flow for k, or NULL when every flow is assured. */
struct fw_flow *fw_flow_add(const struct fw_key *k, uint64_t now);
void fw_flow_remove(struct fw_flow *f);
/* After its state changed: its place on the unassured list. */
void fw_flow_update_listing(struct fw_flow *f);
extern struct fw_stats fw_stats;

/* track.c: the state machines. */
enum fw_track {
	FW_TRACK_PASS,
	FW_TRACK_INVALID, /* drop: the state does not allow the packet */
	FW_TRACK_WINDOW,  /* drop: out of the window (window.c) */
	FW_TRACK_IGNORE,  /* pass, but old: it changes nothing */
	FW_TRACK_REOPEN,  /* a new connection on a closed flow's key */
};
void fw_track_start(struct fw_flow *f, const struct fw_view *v, uint64_t now);
enum fw_track fw_track(struct fw_flow *f, int dir, const struct fw_view *v,
		       uint64_t now);
bool fw_track_assured(const struct fw_flow *f);
/* Whether the packet may start a flow (TCP: a SYN alone). */
bool fw_track_can_start(const struct fw_view *v);

/* window.c: a SYN's numbers, and the opener's direction from them (the
 * responder's then follows from its SYN-ACK). */
struct fw_tcp_syn fw_window_syn(const struct fw_tcp_seg *t);
void fw_window_start(struct fw_flow *f, const struct fw_tcp_syn *syn);
/* Whether the segment v in direction dir is within the windows (PASS,
 * and the windows move on), old (IGNORE) or out of them (WINDOW). */
enum fw_track fw_window(struct fw_flow *f, int dir, const struct fw_view *v);

#endif

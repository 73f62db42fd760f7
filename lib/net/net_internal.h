/* lib/net internals: the interface, the layers' entry points, counters. */
#ifndef LIB_NET_INTERNAL_H
#define LIB_NET_INTERNAL_H

#include <ingot/abi.h>
#include <ingot/net.h>
#include <ingot/sched.h>
#include <stdbool.h>
#include <stdint.h>

#define ETH_HLEN      14
#define ETH_P_IP      0x0800
#define ETH_P_ARP     0x0806
#define IP_HLEN       20
#define UDP_HLEN      8
#define IPPROTO_ICMP  1
#define IPPROTO_TCP   6
#define IPPROTO_UDP   17
#define IP_BROADCAST  0xffffffffu
#define NET_RX_OFFSET 2 /* aligns the IP header on 4 bytes */

/* Counters: every drop has a reason.  X(name) lists them in print order. */
#define NET_COUNTERS(X)                                                        \
	X(eth_frames_in)                                                       \
	X(eth_bytes_in)                                                        \
	X(eth_frames_out)                                                      \
	X(eth_bytes_out)                                                       \
	X(eth_drop_truncated)                                                  \
	X(eth_drop_not_for_us)                                                 \
	X(eth_drop_unknown_type)                                               \
	X(arp_in)                                                              \
	X(arp_out)                                                             \
	X(arp_replies_sent)                                                    \
	X(arp_drop_malformed)                                                  \
	X(arp_drop_not_for_us)                                                 \
	X(arp_unresolved)                                                      \
	X(arp_drop_queue_full)                                                 \
	X(arp_ignored_conflict)                                                \
	X(ip_packets_in)                                                       \
	X(ip_bytes_in)                                                         \
	X(ip_packets_out)                                                      \
	X(ip_bytes_out)                                                        \
	X(ip_drop_truncated)                                                   \
	X(ip_drop_bad_header)                                                  \
	X(ip_drop_bad_checksum)                                                \
	X(ip_drop_not_for_us)                                                  \
	X(ip_drop_unknown_protocol)                                            \
	X(ip_drop_no_route)                                                    \
	X(ip_drop_filtered)                                                    \
	X(ip_forwarded)                                                        \
	X(ip_fwd_drop_ttl)                                                     \
	X(ip_fwd_drop_too_big)                                                 \
	X(ip_fwd_drop_not_unicast)                                             \
	X(ip_frag_in)                                                          \
	X(ip_reassembled)                                                      \
	X(ip_frag_drop_overlap)                                                \
	X(ip_frag_drop_invalid)                                                \
	X(ip_frag_drop_timeout)                                                \
	X(ip_frag_drop_evicted)                                                \
	X(ip_frags_out)                                                        \
	X(icmp_in)                                                             \
	X(icmp_out)                                                            \
	X(icmp_echo_replies)                                                   \
	X(icmp_drop_malformed)                                                 \
	X(icmp_drop_bad_checksum)                                              \
	X(icmp_errors_sent)                                                    \
	X(icmp_errors_rate_limited)                                            \
	X(udp_in)                                                              \
	X(udp_out)                                                             \
	X(udp_drop_malformed)                                                  \
	X(udp_drop_bad_checksum)                                               \
	X(udp_drop_no_port)                                                    \
	X(udp_drop_queue_full)                                                 \
	X(nat_out)                                                             \
	X(nat_in)                                                              \
	X(nat_mappings)                                                        \
	X(nat_expired)                                                         \
	X(nat_drop_table_full)                                                 \
	X(nat_drop_unsupported)                                                \
	X(dhcp_offers)                                                         \
	X(dhcp_acks)                                                           \
	X(dhcp_naks)                                                           \
	X(dhcp_renewals)                                                       \
	X(dhcp_drop_invalid)                                                   \
	X(drop_no_buffer)                                                      \
	X(tx_drop_queue_full)                                                  \
	X(tx_drop_too_many_pieces)

struct net_counters {
#define NET_COUNTER_FIELD(n) uint64_t n;
	NET_COUNTERS(NET_COUNTER_FIELD)
#undef NET_COUNTER_FIELD
};

/*
 * A packet as the stack holds it: the application's struct pkt first, so
 * that every struct pkt * the pool hands out is the start of one, then
 * what the layers note about it on its way up.
 */
struct pkt_meta {
	struct pkt pkt;
	struct pkt *next; /* on the free list or in a pkt_queue */
	uint8_t *buf;     /* the whole buffer */
	uint32_t cap;
	bool free;        /* on the free list */
	bool reassembled; /* data lives in reassembly slot reass_slot */
	uint32_t reass_slot;
	struct netif *ifp;       /* received on */
	uint32_t src_ip, dst_ip; /* host order, set on receive */
	uint16_t src_port, dst_port;
	uint16_t ip_hlen; /* the IP header's length, set on receive */
	/* References beyond the owner's (pkt_ref): a TCP segment sits on its
	 * connection's send queue and on a TX ring at once. */
	uint16_t refs;
	/* A TCP segment on a connection's queue: its first sequence number
	 * and, on the send queue, its payload at buf + tcp_off. */
	uint16_t tcp_off, tcp_len;
	uint32_t tcp_seq;
	uint8_t tcp_sacked,
	    tcp_rexmit; /* the peer has it; resent in recovery */
	/* The send queue's link: next is the TX queue's while the segment
	 * is lent to it. */
	struct pkt *tcp_next;
	/* A send queue segment whose payload is image data (tcp_write_static),
	 * not in buf: NULL for one in buf + tcp_off. */
	const uint8_t *tcp_ext;
	/* A frame in pieces (abi.h): RX, a large frame over several buffers;
	 * TX, headers then payloads.  The next piece, NULL at the last; a
	 * piece belongs to its frame until the TX ring or a reader takes it. */
	struct pkt *frag;
	/* TX: tx_ext_len bytes at tx_ext follow data in the frame (sent from
	 * where they are, never copied); the offloads asked for
	 * (INGOT_NET_SLOT_CSUM, _TSO4), with the TCP or UDP header at tx_l4. */
	const uint8_t *tx_ext;
	uint32_t tx_ext_len;
	uint8_t *tx_l4;
	uint16_t tx_flags, tx_gso_size;
	uint8_t tx_csum_off; /* of the checksum field in the header at tx_l4 */
	/* TX: past CONFIG_NET_TXQ_MAX (which bounds what a datagram flood
	 * queues) queued all the same: a TCP segment, bounded by its
	 * connection's windows and the pool, whose loss would cost an RTO. */
	bool tx_keep;
	bool csum_ok;        /* RX: the host says the checksum needs no check */
	bool link_broadcast; /* RX: sent to the Ethernet broadcast address */
	/* RX: a frame from this host whose TCP or UDP checksum holds only
	 * the pseudo-header's sum (abi.h): where the sum starts, from the
	 * frame's first byte (0: none), and its field's offset from there. */
	uint16_t csum_start, csum_off;
	/* RX: segments the host coalesced (INGOT_NET_SLOT_TSO4): their
	 * payload size; 0 for a frame as it was sent. */
	uint16_t rx_gso_size;
};

static inline struct pkt_meta *pkt_meta(struct pkt *p)
{
	return (struct pkt_meta *)p;
}

/* A FIFO of packets, linked through their meta's next. */
struct pkt_queue {
	struct pkt *head, *tail;
	unsigned len;
};

static inline void pkt_queue_push(struct pkt_queue *q, struct pkt *p)
{
	pkt_meta(p)->next = NULL;
	if (q->tail)
		pkt_meta(q->tail)->next = p;
	else
		q->head = p;
	q->tail = p;
	q->len++;
}

static inline struct pkt *pkt_queue_pop(struct pkt_queue *q)
{
	struct pkt *p = q->head;
	if (p) {
		q->head = pkt_meta(p)->next;
		if (!q->head)
			q->tail = NULL;
		q->len--;
	}
	return p;
}

struct netif {
	const struct ingot_device *dev;
	uint32_t handle;
	uint8_t mac[6];
	uint16_t mtu;
	uint32_t features;              /* the offloads taken: INGOT_NET_F_* */
	struct ingot_net_ring *tx, *rx; /* net_ring_slots each */
	struct pkt **tx_pkt, **rx_pkt;  /* the packet in each slot */
	uint32_t tx_done, rx_done;      /* guest-side consumers of used */
	struct pkt_queue txq;           /* waiting for room on the TX ring */
	/* IPv4 */
	uint32_t ip, netmask, gateway; /* host order; ip 0: unconfigured */
	bool dhcp;
	struct sched_waitq configured;
	struct net_counters count;
};

extern struct netif net_ifs[INGOT_DEVICES_MAX];
extern unsigned net_nifs;
/* Counters not tied to one interface (outbound without a route, say). */
extern struct net_counters net_global;

/* pkt.c.  Pushing more than the headroom or pulling more than len aborts
 * (assert): both are bugs in the stack, never bad input. */
int pkt_pool_init(unsigned n);
void pkt_reserve(struct pkt *p, uint32_t headroom); /* empty, data at it */
uint8_t *pkt_push(struct pkt *p, uint32_t n);       /* prepend n header bytes */
void pkt_pull(struct pkt *p, uint32_t n);
/* Bytes before data the packet may push headers into (0 for a reassembled
 * datagram, whose data lives in a reassembly slot). */
uint32_t pkt_headroom(const struct pkt *p);
/* Packets allocated and not yet freed: the fuzz harness checks that the
 * stack gives every one back. */
unsigned pkt_pool_in_use(void);
/* Packets free in the pool. */
unsigned pkt_pool_free(void);
/* Waits until more than `above` packets are free (or the deadline:
 * -ETIMEDOUT), in the order the callers came: a writer that found the pool
 * short gets the next packets, not whichever fiber polls first. */
int pkt_pool_wait(unsigned above, uint64_t deadline_ns);
/* One more reference to p: pkt_free then drops one until the last. */
void pkt_ref(struct pkt *p);
/* A frame's bytes: every piece's data and external bytes. */
uint32_t pkt_frame_len(struct pkt *p);
/* Drops the first n bytes of a received frame, freeing the pieces after
 * the first that they empty (the first keeps its meta, perhaps empty).
 * n must not exceed the frame. */
void pkt_chain_pull(struct pkt *p, uint32_t n);
/* Cuts a received frame to len bytes, freeing the pieces past it. */
void pkt_chain_trim(struct pkt *p, uint32_t len);

/* netif.c */
int net_init(void); /* the start-of-day hook; public for the fuzzer */
/* Output held back while fibers ran, sent before the loop's next exit to
 * the host (TCP sets it once used, so images without TCP do not link it). */
extern void (*net_flush_hook)(void);
/* Called when an interface's TX queue has drained below half of
 * CONFIG_NET_TXQ_MAX, for senders that stopped at half: set by TCP. */
extern void (*net_txq_room_hook)(void);
void net_if_output(struct netif *ifp, struct pkt *p); /* consumes p */

/* checksum.c: the Internet checksum (RFC 1071). */
uint32_t net_csum_add(uint32_t sum, const void *data, size_t len);
uint16_t net_csum_fold(uint32_t sum);
uint32_t net_csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto,
			 uint32_t len);
/* The sum of a frame's bytes from p->data on, over all its pieces. */
uint32_t net_csum_frame(uint32_t sum, struct pkt *p);
/* The TCP or UDP checksum field of a segment of len bytes (header
 * included) at l4: the whole checksum, or with the interface's checksum
 * offload only the pseudo-header's sum and the offload asked for. */
void net_csum_l4(struct netif *ifp, struct pkt *p, uint8_t *l4, uint8_t proto,
		 uint32_t src, uint32_t dst, uint32_t len, unsigned csum_off);

/* eth.c */
void eth_input(struct netif *ifp, struct pkt *p);
void eth_output(struct netif *ifp, struct pkt *p, const uint8_t dst[6],
		uint16_t type);
extern const uint8_t eth_broadcast[6];

/* arp.c */
void arp_input(struct netif *ifp, struct pkt *p);
/* Sends IP packet p to next hop nh, resolving its address first. */
void arp_output(struct netif *ifp, struct pkt *p, uint32_t nh);
void arp_announce(struct netif *ifp);
void arp_timer_start(void);

/* ipv4.c */
void ipv4_input(struct netif *ifp, struct pkt *p);
/* Sends p (data: the IP payload) from the interface's address to dst;
 * fragments it if needed.  Consumes p.  0 or a negative error. */
int ipv4_output(struct pkt *p, uint8_t proto, uint32_t dst);
/* Likewise from a flat buffer (header then payload), any size <= 65515. */
int ipv4_output_buf(const void *hdr, size_t hlen, const void *payload,
		    size_t plen, uint8_t proto, uint32_t src, uint32_t dst);
/* Sends p (data: the IP payload, no larger than the MTU allows, with
 * headroom for the headers) on ifp to next hop nh.  Consumes p. */
void ipv4_send(struct netif *ifp, struct pkt *p, uint8_t proto, uint32_t src,
	       uint32_t dst, uint32_t nh);
bool ipv4_is_ours(const struct netif *ifp, uint32_t dst);
/* Whether dst is the address of one of the interfaces. */
bool ipv4_is_local(uint32_t dst);

/* route.c: the interface and next hop towards dst, NULL when there is no
 * route; the routes of the build and the boot arguments, at start. */
struct netif *ipv4_route(uint32_t dst, uint32_t *next_hop);
int ipv4_route_configure(int argc, char **argv);

/* forward.c */
/* Whether datagrams are reassembled before forwarding (for the filter or
 * NAT, which need the ports), as they are for local delivery. */
bool ipv4_forward_whole(void);
/* The filter's verdict on p (an IPv4 datagram) from in, to out or (NULL)
 * the guest itself; a drop is counted. */
enum net_verdict ipv4_filter(struct netif *in, struct pkt *p,
			     struct netif *out);
/* Sends p (data: its IPv4 header) on out to nh, or answers with an ICMP
 * error.  Consumes p. */
void ipv4_forward(struct netif *in, struct pkt *p, struct netif *out,
		  uint32_t nh);

/* nat.c: masquerade (source NAT) on one interface. */
int nat_configure(int argc, char **argv);
bool nat_active(void);
/* Translates p (data: its IPv4 header) leaving by out; 0, or a negative
 * error when it cannot be (counted; the caller drops p). */
int nat_outbound(struct netif *out, struct pkt *p);
/* Gives a reply (or an ICMP error about a translated datagram) arriving on
 * ifp back to the inside host it is for: whether p was translated. */
bool nat_inbound(struct netif *ifp, struct pkt *p);
/* Notes a connection from outside forwarded in, untranslated, so that its
 * replies leave untranslated too; 0, or a negative error when the table
 * is full (counted; the caller drops p). */
int nat_passthrough(struct netif *in, struct pkt *p);

/* reass.c */
int ipv4_reass_init(void);
struct pkt *ipv4_reass_input(struct netif *ifp, struct pkt *p);
void ipv4_reass_release(uint32_t slot);

/* icmp.c */
void icmp_input(struct netif *ifp, struct pkt *p);
/* Destination unreachable (code) about the IP datagram whose first len
 * bytes are at ip (its header first), sent to ifp's address; rate-limited. */
void icmp_unreachable(struct netif *ifp, const uint8_t *ip, size_t len,
		      uint8_t code);
/* An ICMP error (type, code, and the word after the checksum: the next
 * hop's MTU for fragmentation needed) about that datagram, from src (0:
 * the address of the interface it leaves by); rate-limited. */
void icmp_error(const uint8_t *ip, size_t len, uint8_t type, uint8_t code,
		uint32_t rest, uint32_t src);

/* udp.c */
void udp_input(struct netif *ifp, struct pkt *p);
/* Writes a UDP header at u for the plen payload bytes that follow it. */
void udp_put_header(uint8_t *u, uint16_t sport, uint16_t dport, uint32_t src,
		    uint32_t dst, size_t plen);

/* tcp_in.c */
void tcp_input(struct netif *ifp, struct pkt *p);

/* dhcp.c */
void dhcp_start(struct netif *ifp);
/* One pass of the client's fiber: due steps, then at most one reply
 * received (waiting no later than wait_until).  Returns the next deadline.
 * Public for the fuzzer, which runs it with wait_until 0. */
uint64_t dhcp_turn(uint64_t now, uint64_t wait_until);

/* Byte order (the guest is little-endian x86_64). */
static inline uint16_t get16(const uint8_t *p)
{
	return p[0] << 8 | p[1];
}
static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}
static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = (uint8_t)v;
}
static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif

/*
 * net: the link and network layer (Ethernet II, ARP, IPv4, ICMP, UDP, a
 * DHCP client) over the platform's network devices (abi.h).
 *
 * Start of day: a start-of-day hook (INGOT_INIT) hands every attached
 * network device its rings and buffers, before the seal.  The application
 * then calls net_start() from ingot_main(): it applies the configuration
 * and starts the interfaces (gratuitous ARP, or DHCP).
 *
 * Configuration: each interface is configured by DHCP unless the build or
 * the boot arguments give a static address.  Boot arguments (to the image,
 * like Mirage's boot keys) override the build's CONFIG_NET_IPV4 and
 * CONFIG_NET_IPV4_GATEWAY (ingot/options.h):
 *   --ipv4=ADDR/PREFIX       a static address, e.g. --ipv4=10.0.0.2/24
 *   --ipv4=dhcp              DHCP (RFC 2131)
 *   --ipv4-gateway=ADDR      the default route
 * With several interfaces, --ipv4:NAME=... configures interface NAME.
 * Other arguments are the application's.  A "--" is skipped, here and by
 * the apps: it is the usual end of options a user puts before the image's
 * arguments, and an image's arguments are all options, so the ones after
 * it count as well (ingot-kvm IMAGE -- --ipv4=... reaches the image as
 * "--", "--ipv4=..."; build/hosted/APP -- --ipv4=... as "--ipv4=...").
 *
 * Packets: fixed pools reserved at start of day, sized by the build
 * (CONFIG_NET_PKTS buffers of NET_PKT_SIZE bytes; a guest whose --mem
 * cannot hold them does not start), each with headroom for the headers, so that
 * receiving and answering never allocate or copy: a UDP server can turn a
 * received packet around in place (udp_recv_pkt / udp_send_pkt).
 */
#ifndef INGOT_NET_H
#define INGOT_NET_H

#include <stddef.h>
#include <stdint.h>

#define NET_PKT_SIZE     2048
#define NET_PKT_HEADROOM 64 /* room for Ethernet + IPv4 + UDP headers */

/*
 * A packet buffer from the pool.  The application reads and writes data
 * and len, the payload on the UDP calls below; the rest of a packet (its
 * buffer's bounds, where it came from) is the stack's own and out of
 * sight.  Only the stack makes packets: a struct pkt declared elsewhere is
 * not one.
 */
struct pkt {
	uint8_t *data; /* the payload's first byte */
	uint32_t len;  /* bytes from data */
};

/* A free packet with data at NET_PKT_HEADROOM and len 0, or NULL when the
 * pool is empty.  pkt_free() returns it (NULL is ignored); freeing a packet
 * twice, or one the pool did not make, aborts. */
struct pkt *pkt_alloc(void);
void pkt_free(struct pkt *p);
/* Bytes from p->data to the end of its buffer: how long a reply written in
 * place may be (0 for a datagram that came in fragments: copy it). */
size_t pkt_tailroom(const struct pkt *p);

struct net_addr {
	uint32_t ip; /* host order */
	uint16_t port;
};

/* IPv4 text forms: "10.0.0.2" -> host-order address; 0 on success. */
int net_parse_ipv4(const char *s, uint32_t *ip);
/* Formats ip into buf (at least 16 bytes); returns buf. */
char *net_format_ipv4(uint32_t ip, char *buf);

/*
 * Starts networking: configures every attached interface from the build
 * options and the boot arguments, announces static addresses, starts DHCP
 * clients.  Returns 0, -ENODEV if the image has no attached network
 * device, or -EINVAL for a bad boot argument (with a message on stderr).
 */
int net_start(int argc, char **argv);

/* Blocks until interface NAME (NULL: the first) has an address, or the
 * deadline (monotonic ns) passes: 0 or -ETIMEDOUT. */
int net_wait_configured(const char *name, uint64_t deadline_ns);

/* --- UDP ------------------------------------------------------------------ */

struct udp_sock;

/* A socket bound to port (0: an ephemeral port) on every interface; NULL
 * when the port is taken (-EADDRINUSE) or all CONFIG_NET_UDP_SOCKETS are in
 * use (-ENOSPC), the error in *err if err is not NULL. */
struct udp_sock *udp_open(uint16_t port, int *err);
void udp_close(struct udp_sock *s);

/*
 * Receives one datagram: copies up to cap bytes to buf and returns the
 * datagram's length (larger than cap if it was truncated), with its source
 * in *from.  Waits until monotonic time deadline_ns (UINT64_MAX: forever):
 * -ETIMEDOUT.
 */
int udp_recvfrom(struct udp_sock *s, void *buf, size_t cap,
		 struct net_addr *from, uint64_t deadline_ns);
/* Sends len bytes (at most 65,507: larger than the MTU is fragmented) to
 * *to.  Returns 0, -EMSGSIZE, -ENETUNREACH (no route or no address yet),
 * -ENOBUFS (the pools are exhausted). */
int udp_sendto(struct udp_sock *s, const void *buf, size_t len,
	       const struct net_addr *to);

/* Zero-copy: the datagram's packet itself, payload at p->data, p->len
 * bytes, source in *from; the caller owns it (pkt_free or udp_send_pkt). */
struct pkt *udp_recv_pkt(struct udp_sock *s, struct net_addr *from,
			 uint64_t deadline_ns);
/* Sends p's payload (p->data, p->len) to *to, consuming p whatever the
 * result.  The headers go into p's headroom; a payload larger than the MTU
 * allows is fragmented (copied). */
int udp_send_pkt(struct udp_sock *s, struct pkt *p, const struct net_addr *to);

/* --- interfaces and forwarding ------------------------------------------- */

/* Interfaces are numbered from 0 to net_if_count() - 1 in the image's
 * device order; each has its device's name in the manifest. */
unsigned net_if_count(void);
const char *net_if_name(unsigned i);

enum net_verdict { NET_PASS, NET_DROP };

/*
 * A packet filter (a firewall).  It sees every IPv4 datagram received that
 * passed the header checks (version, lengths, header checksum): p->data is
 * its IPv4 header, p->len the whole datagram (fragments are reassembled
 * first, as Linux does under conntrack: a datagram whose fragments never
 * all come is never seen), in_if the interface it came in on, out_if the
 * one it would be forwarded out of (CONFIG_NET_FORWARD), or -1 when it is
 * for the guest itself.  Source NAT comes after the filter, its reversal
 * before: the filter sees inside addresses.  What the guest itself sends
 * is not filtered.  The filter must not change the packet.  In an image
 * with CONFIG_NET_TSO, a TCP segment the host coalesced comes in pieces:
 * the filter sees the first, which holds every header (p->len is then
 * less than the IP header's total length).
 */
typedef enum net_verdict (*net_filter_fn)(const struct pkt *p, int in_if,
					  int out_if);
void net_set_filter(net_filter_fn fn);

/* --- counters ------------------------------------------------------------- */

/* Prints every interface's counters (frames and bytes in and out per
 * layer, drops by reason) to standard output. */
void net_print_counters(void);

#endif

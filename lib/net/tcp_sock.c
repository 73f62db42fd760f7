/*
 * The fiber API of include/ingot/tcp.h: calls that block on a
 * connection's wait queues until the segments and timers of the other
 * files change its state.
 */
#include <errno.h>
#include <string.h>

#include "tcp_internal.h"

struct tcp_conn *tcp_accept(struct tcp_listener *l, uint64_t deadline_ns,
			    int *err)
{
	int e = 0;
	struct tcp_conn *c;
	while (!(c = l->aq_head)) {
		if (!l->port) {
			e = -EINVAL;
			goto out;
		}
		if (sched_wait(&l->waiters, deadline_ns) == -ETIMEDOUT) {
			e = -ETIMEDOUT;
			goto out;
		}
	}
	l->aq_head = c->aq_next;
	if (!l->aq_head)
		l->aq_tail = NULL;
	c->aq_next = NULL;
	c->listener = NULL;
	l->pending--;
	c->app_owned = true;
out:
	if (err)
		*err = e;
	return c;
}

struct tcp_conn *tcp_connect(uint32_t addr, uint16_t port, uint64_t deadline_ns,
			     int *err)
{
	int e = 0;
	uint32_t nh;
	struct tcp_conn *c = NULL;
	tcp_init();
	struct netif *ifp = ipv4_route(addr, &nh);
	if (!ifp || !port) {
		e = ifp ? -EINVAL : -ENETUNREACH;
		goto out;
	}
	int lport = tcp_ephemeral_port(ifp->ip, addr, port);
	if (lport < 0) {
		e = lport;
		goto out;
	}
	if (tcp_pool_low() || !(c = tcp_conn_alloc())) {
		tcp_count.conns_refused++;
		e = -ENOBUFS;
		goto out;
	}
	c->lip = ifp->ip;
	c->rip = addr;
	c->lport = (uint16_t)lport;
	c->rport = port;
	c->app_owned = true;
	c->iss = tcp_isn(c->lip, c->lport, c->rip, c->rport);
	c->snd_una = c->recover = c->iss;
	c->snd_nxt = c->snd_max = c->snd_end = c->iss + 1;
	c->ts_offset = tcp_ts_offset(c->lip, c->rip);
	c->ws_ok = c->ts_ok = c->sack_ok = true;
	c->rcv_wscale = tcp_our_wscale();
	tcp_set_state(c, TCP_SYN_SENT);
	tcp_conn_hash(c);
	tcp_send_ctl(c, TCP_SYN, c->iss);
	tcp_rtx_arm(c);
	while (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED) {
		if (sched_wait(&c->writers, deadline_ns) == -ETIMEDOUT) {
			e = -ETIMEDOUT;
			break;
		}
	}
	if (!e && c->state != TCP_ESTABLISHED && c->state != TCP_CLOSE_WAIT)
		e = c->err ? c->err : -ECONNREFUSED;
	if (e) {
		c->app_owned = false;
		tcp_conn_drop(c, e);
		c = NULL;
	}
out:
	if (err)
		*err = e;
	return c;
}

/* Waits for received data: 1 when some is queued, else tcp_read's
 * result. */
static int wait_data(struct tcp_conn *c, uint64_t deadline_ns)
{
	while (!c->rcvq.head) {
		if (c->rcv_fin)
			return 0;
		if (c->err) {
			int e = c->err;
			if (e == -ETIMEDOUT)
				c->err = -ECONNRESET;
			return e;
		}
		if (c->state == TCP_CLOSED || c->state == TCP_SYN_SENT)
			return -ENOTCONN;
		if (sched_wait(&c->readers, deadline_ns) == -ETIMEDOUT)
			return -ETIMEDOUT;
	}
	return 1;
}

struct pkt *tcp_read_pkt(struct tcp_conn *c, uint64_t deadline_ns, int *err)
{
	int rc = wait_data(c, deadline_ns);
	if (rc <= 0) {
		if (err)
			*err = rc;
		return NULL;
	}
	struct pkt *p = pkt_queue_pop(&c->rcvq);
	c->rcv_queued -= p->len;
	tcp_window_update(c);
	return p;
}

int tcp_read(struct tcp_conn *c, void *buf, size_t cap, uint64_t deadline_ns)
{
	int rc = wait_data(c, deadline_ns);
	if (rc <= 0)
		return rc;
	size_t n = 0;
	struct pkt *p;
	while (n < cap && (p = c->rcvq.head)) {
		size_t k = cap - n < p->len ? cap - n : p->len;
		memcpy((uint8_t *)buf + n, p->data, k);
		n += k;
		pkt_pull(p, (uint32_t)k);
		if (!p->len)
			pkt_free(pkt_queue_pop(&c->rcvq));
	}
	c->rcv_queued -= (uint32_t)n;
	tcp_window_update(c);
	return (int)n;
}

static bool can_write(const struct tcp_conn *c)
{
	return c->state == TCP_ESTABLISHED || c->state == TCP_CLOSE_WAIT;
}

/* A fresh segment at the end of the send queue; NULL if the pool is
 * empty. */
static struct pkt *new_segment(struct tcp_conn *c)
{
	struct pkt *p = pkt_alloc();
	if (!p)
		return NULL;
	struct pkt_meta *m = pkt_meta(p);
	pkt_reserve(p, TCP_HEADROOM);
	m->tcp_off = TCP_HEADROOM;
	m->tcp_len = 0;
	m->tcp_sacked = m->tcp_rexmit = 0;
	m->tcp_seq = c->snd_end;
	tcp_sndq_push(&c->sndq, p);
	if (!c->snd_next_pkt)
		c->snd_next_pkt = p;
	return p;
}

/* Bytes c may queue now: its send buffer's room, and under memory
 * pressure no more than its peer's window takes (one segment when
 * nothing is queued, for the persist timer to probe with), so that peers
 * that do not read cannot hold the pool's last packets (tcp.h). */
static uint32_t send_room(const struct tcp_conn *c)
{
	uint32_t room = CONFIG_NET_TCP_SNDBUF - c->snd_queued;
	if (!tcp_pool_low())
		return room;
	uint32_t wnd =
	    c->snd_wnd > c->snd_queued ? c->snd_wnd - c->snd_queued : 0;
	if (!c->snd_queued)
		wnd = tcp_max32(wnd, c->mss);
	return tcp_min32(room, wnd);
}

/*
 * Queues len bytes at buf: copied into the tail segment while it has not
 * left and then into fresh ones, or (image data) referred to from fresh
 * segments of their own.  Segments go out when the write is queued or
 * must wait for room, so that a large write leaves in large frames.
 */
static int queue(struct tcp_conn *c, const uint8_t *buf, size_t len,
		 uint64_t deadline_ns, bool image_data)
{
	size_t done = 0;
	if (len > INT32_MAX)
		len = INT32_MAX;
	/* Image data is referred to, not held: through an interface that
	 * cuts frames, a segment of it holds up to a TSO frame's payload, so
	 * that a large static response takes a few packets rather than one
	 * per MSS (tcp_output cuts what the window or a resend needs). */
	uint32_t nh, seg = c->mss;
	struct netif *ifp = image_data ? ipv4_route(c->rip, &nh) : NULL;
	if (ifp && (ifp->features & INGOT_NET_F_TSO4))
		seg = tcp_tso_max(c);
	/* The first segment tops up the frame that the data queued ahead of
	 * it and not sent yet begins (a response's head), so that they leave
	 * as one frame rather than a short one and a full one. */
	uint32_t ahead = c->snd_end - c->snd_nxt;
	uint32_t lead = seg > c->mss && ahead < seg - c->mss ? ahead : 0;
	while (done < len) {
		if (c->err)
			return done ? (int)done : c->err;
		if (c->fin_queued)
			return done ? (int)done : -EPIPE;
		if (!can_write(c))
			return done ? (int)done : -ENOTCONN;
		uint32_t room = send_room(c);
		struct pkt *p = c->sndq.tail;
		/* Append to the last segment while it has not left. */
		if (p && (image_data || pkt_meta(p)->tcp_ext ||
			  !tcp_le(c->snd_nxt, tcp_pkt_seq(p)) ||
			  pkt_meta(p)->tcp_len >= c->mss))
			p = NULL;
		/* Writes may go deeper into the pool than receiving
		 * (tcp.h). */
		if (room && !p && pkt_pool_free() > TCP_WRITE_FLOOR)
			p = new_segment(c);
		if (!room || !p) {
			/* Full: wait for ACKs to free some; no packet: wait
			 * in line for the pool, or for an error or shutdown,
			 * checked each 100 ms. */
			tcp_output(c);
			int rc;
			if (room) {
				tcp_shed_stalled(c);
				uint64_t until = deadline_ns;
				if (sched_now() + 100 * TCP_MS < until)
					until = sched_now() + 100 * TCP_MS;
				rc = pkt_pool_wait(TCP_WRITE_FLOOR, until);
				if (rc == -ETIMEDOUT && until != deadline_ns)
					rc = 0;
			} else {
				rc = sched_wait(&c->writers, deadline_ns);
			}
			if (rc == -ETIMEDOUT)
				return done ? (int)done : -ETIMEDOUT;
			continue;
		}
		struct pkt_meta *m = pkt_meta(p);
		uint32_t n = seg - m->tcp_len - lead;
		lead = 0;
		n = tcp_min32(n, room);
		n = tcp_min32(n, (uint32_t)(len - done));
		if (image_data)
			m->tcp_ext = buf + done;
		else
			memcpy(m->buf + m->tcp_off + m->tcp_len, buf + done, n);
		m->tcp_len += (uint16_t)n;
		c->snd_queued += n;
		c->snd_end += n;
		done += n;
	}
	tcp_output_later(c);
	return (int)done;
}

int tcp_write(struct tcp_conn *c, const void *buf, size_t len,
	      uint64_t deadline_ns)
{
	return queue(c, buf, len, deadline_ns, false);
}

int tcp_write_static(struct tcp_conn *c, const void *buf, size_t len,
		     uint64_t deadline_ns)
{
	return queue(c, buf, len, deadline_ns, true);
}

int tcp_shutdown(struct tcp_conn *c)
{
	if (c->fin_queued)
		return 0;
	if (c->state == TCP_ESTABLISHED)
		tcp_set_state(c, TCP_FIN_WAIT_1);
	else if (c->state == TCP_CLOSE_WAIT)
		tcp_set_state(c, TCP_LAST_ACK);
	else
		return -ENOTCONN;
	c->fin_queued = true;
	c->fin_seq = c->snd_end;
	tcp_output(c);
	return 0;
}

void tcp_close(struct tcp_conn *c)
{
	c->app_owned = false;
	if (c->rcvq.head || c->state == TCP_SYN_SENT) {
		/* Unread data: tell the peer it was lost (RFC 9293 3.6). */
		if (c->state != TCP_SYN_SENT && c->state != TCP_CLOSED) {
			tcp_count.conns_reset_out++;
			tcp_send_ctl(c, TCP_RST | TCP_ACK, c->snd_nxt);
		}
		tcp_conn_drop(c, -ECONNRESET);
		return;
	}
	switch (c->state) {
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
		tcp_shutdown(c);
		break;
	case TCP_FIN_WAIT_2:
		tcp_keep_arm(c, TCP_FIN_WAIT2_MS);
		break;
	case TCP_CLOSED:
		tcp_conn_free(c);
		break;
	default:
		break; /* the close goes on; the stack frees it */
	}
}

int tcp_set_keepalive(struct tcp_conn *c, uint32_t idle_ms, uint32_t intvl_ms,
		      unsigned probes)
{
	if (idle_ms && (!intvl_ms || !probes || probes > 255))
		return -EINVAL;
	c->keep_idle_ms = idle_ms;
	if (idle_ms) {
		c->keep_intvl_ms = intvl_ms;
		c->keep_probes_max = (uint8_t)probes;
	}
	c->keep_probes = 0;
	if ((c->state == TCP_ESTABLISHED || c->state == TCP_CLOSE_WAIT) &&
	    idle_ms)
		tcp_keep_arm(c, idle_ms);
	return 0;
}

void tcp_set_nodelay(struct tcp_conn *c, bool on)
{
	c->nodelay = on;
	if (on)
		tcp_output(c);
}

struct net_addr tcp_peer(const struct tcp_conn *c)
{
	return (struct net_addr){c->rip, c->rport};
}

struct net_addr tcp_local(const struct tcp_conn *c)
{
	return (struct net_addr){c->lip, c->lport};
}

/*
 * latency_proxy: the benchmark's latency emulator: forwards TCP and UDP with an added
 * one-way delay, in user space, on one epoll loop (docs/BENCHMARKS.md).
 *
 *   latency_proxy [--upstream-netns NS] [--max-queue-mib M] [--realtime] [--slack-us U]
 *                 [--udp-in-flight K] DELAY_MS SPEC...
 *   SPEC: udp:LISTEN_IP:PORT=TARGET_IP:PORT or tcp:LISTEN_IP:PORT=TARGET_IP:PORT
 *
 * The kernel here has no netem, so the benchmark runs the tool it measures in a client
 * namespace where this proxy holds the servers' own addresses, and the proxy connects to
 * the real servers in the lab's namespace (--upstream-netns: it opens those sockets there
 * with setns), so names, addresses and certificates stay as they are; only the path gets
 * longer. With D = DELAY_MS (one way), every round trip costs 2 x D more:
 *   - UDP: every datagram waits D in each direction (a DNS question and its answer: +2D).
 *   - TCP: every chunk of bytes waits D in each direction, in order; so does the end of
 *     stream. The handshake happens locally (connect() returns at once), so its round trip
 *     is charged to the first bytes instead: the proxy connects upstream 3D after the
 *     accept and forwards nothing before then. The server sees the connection when it
 *     would over a real path (SYN, SYN-ACK, ACK = 3D), its first bytes (an SMTP banner)
 *     reach the client at 4D, and a client's first bytes (a TLS ClientHello) are answered
 *     at 4D, as with a 2D round trip on every packet.
 * Bandwidth is not limited and nothing is lost on purpose. Memory is bounded: a TCP
 * direction stops reading at 1 MiB queued (the sender then waits, as with a full window);
 * UDP datagrams beyond --max-queue-mib (default 256) of queued bytes are dropped and
 * counted. --realtime runs it under SCHED_FIFO (else at nice -10, else as it is): a wire
 * does not wait for the CPU that the tool and the servers share, so neither should this.
 * --slack-us lets a timer fire up to U microseconds late so that one wake-up serves more
 * of them (default 0: at its due time). --udp-in-flight K makes the path an overloaded
 * resolver's: a question that arrives while K questions are on their way (taken from
 * clients, their answers not yet delivered) is dropped and counted (udp_dropped_busy), as
 * a resolver with K places for requests drops the rest (unbound's num-queries-per-thread).
 *
 * stdout: "ready" once every listener is bound; on SIGUSR1 one JSON line of counters
 * (cumulative, with its own CPU seconds) and of how late deliveries were against their due
 * time since the previous SIGUSR1; on SIGTERM or SIGINT that line once more, then exit.
 * One thread; Linux only; --upstream-netns needs root (setns).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_MAX 65536			/* one TCP read, one datagram at most */
#define TCP_DIR_CAP (1u << 20)		/* queued bytes at which a direction stops reading */
#define UDP_BATCH 64			/* datagrams per recvmmsg */
#define UDP_FLOWS_MAX 65536		/* client addresses with an upstream socket */
#define UDP_IDLE_NS (5ull * 1000000000ull)	/* and at least 10 x D */
#define SOCK_BUF (8 << 20)		/* UDP socket buffers, both ways */
#define NOT_QUEUED ((size_t)-1)
#define NS 1000000000ull

#define CONTAINER(p, type, member) ((type *)(void *)((char *)(p) - offsetof(type, member)))

/* ---- time and the timer heap ---------------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

struct timer {
	uint64_t due;
	size_t idx;	/* position in the heap, or NOT_QUEUED */
	void (*fire)(struct timer *);
};

static struct timer **heap;
static size_t heap_len, heap_cap;

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q) {
		fprintf(stderr, "latency_proxy: out of memory\n");
		abort();
	}
	return q;
}

static void heap_swap(size_t a, size_t b)
{
	struct timer *t = heap[a];

	heap[a] = heap[b];
	heap[b] = t;
	heap[a]->idx = a;
	heap[b]->idx = b;
}

static void heap_up(size_t i)
{
	while (i > 0 && heap[(i - 1) / 2]->due > heap[i]->due) {
		heap_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < heap_len && heap[l]->due < heap[m]->due)
			m = l;
		if (r < heap_len && heap[r]->due < heap[m]->due)
			m = r;
		if (m == i)
			return;
		heap_swap(i, m);
		i = m;
	}
}

static void timer_cancel(struct timer *t)
{
	size_t i = t->idx;

	if (i == NOT_QUEUED)
		return;
	t->idx = NOT_QUEUED;
	heap_len--;
	if (i == heap_len)
		return;
	heap[i] = heap[heap_len];
	heap[i]->idx = i;
	heap_up(i);
	heap_down(heap[i]->idx);
}

static void timer_set(struct timer *t, uint64_t due)
{
	if (t->idx != NOT_QUEUED) {
		if (t->due == due)
			return;
		timer_cancel(t);
	}
	if (heap_len == heap_cap) {
		heap_cap = heap_cap ? 2 * heap_cap : 1024;
		heap = xrealloc(heap, heap_cap * sizeof(*heap));
	}
	t->due = due;
	t->idx = heap_len;
	heap[heap_len++] = t;
	heap_up(t->idx);
}

/* ---- counters ------------------------------------------------------------------------- */

static const unsigned late_edge_us[] = {50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000,
					 50000, 100000};
#define LATE_BUCKETS (sizeof(late_edge_us) / sizeof(late_edge_us[0]) + 1)

static struct {
	uint64_t udp_in, udp_out, udp_dropped_queue, udp_dropped_send, udp_dropped_flows;
	uint64_t udp_taken, udp_answered, udp_dropped_busy;	/* --udp-in-flight */
	uint64_t udp_sock_drops;	/* SO_RXQ_OVFL: at the proxy's own sockets */
	uint64_t tcp_accepted, tcp_accept_errors, tcp_connect_failed, tcp_aborted;
	uint64_t tcp_bytes_c2s, tcp_bytes_s2c;
	uint64_t tcp_open, tcp_peak, udp_flows;
	uint64_t queued, queued_peak;
	uint64_t late_n, late_max_ns, late_sum_ns, late[LATE_BUCKETS];
} st;

static void late_record(uint64_t now, uint64_t due)
{
	uint64_t l = now > due ? now - due : 0;
	size_t b = 0;

	while (b < LATE_BUCKETS - 1 && l >= (uint64_t)late_edge_us[b] * 1000)
		b++;
	st.late[b]++;
	st.late_n++;
	st.late_sum_ns += l;
	if (l > st.late_max_ns)
		st.late_max_ns = l;
}

/* The upper edge (us) of the bucket holding quantile q of the lateness; -1 above all. */
static long late_quantile(double q)
{
	uint64_t want = (uint64_t)((double)st.late_n * q), seen = 0;

	for (size_t b = 0; b < LATE_BUCKETS; b++) {
		seen += st.late[b];
		if (seen > want || (seen == st.late_n && seen > 0))
			return b < LATE_BUCKETS - 1 ? (long)late_edge_us[b] : -1;
	}
	return 0;
}

static void stats_print(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	printf("{\"cpu_user\": %.3f, \"cpu_sys\": %.3f, \"max_rss_kib\": %ld, "
	       "\"udp_in\": %" PRIu64 ", \"udp_out\": %" PRIu64 ", \"udp_dropped_queue\": %" PRIu64
	       ", \"udp_dropped_send\": %" PRIu64 ", \"udp_dropped_flows\": %" PRIu64
	       ", \"udp_sock_drops\": %" PRIu64 ", \"udp_dropped_busy\": %" PRIu64
	       ", \"udp_flows\": %" PRIu64
	       ", \"tcp_accepted\": %" PRIu64 ", \"tcp_accept_errors\": %" PRIu64
	       ", \"tcp_connect_failed\": %" PRIu64 ", \"tcp_aborted\": %" PRIu64
	       ", \"tcp_bytes_c2s\": %" PRIu64 ", \"tcp_bytes_s2c\": %" PRIu64
	       ", \"tcp_open\": %" PRIu64 ", \"tcp_peak\": %" PRIu64
	       ", \"queued_peak\": %" PRIu64 ", \"late_n\": %" PRIu64
	       ", \"late_mean_us\": %.1f, \"late_max_us\": %.1f, \"late_p50_us\": %ld"
	       ", \"late_p99_us\": %ld, \"late_p999_us\": %ld, \"late_buckets_us\": [",
	       (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6, ru.ru_maxrss,
	       st.udp_in, st.udp_out, st.udp_dropped_queue, st.udp_dropped_send,
	       st.udp_dropped_flows, st.udp_sock_drops, st.udp_dropped_busy, st.udp_flows,
	       st.tcp_accepted,
	       st.tcp_accept_errors, st.tcp_connect_failed, st.tcp_aborted, st.tcp_bytes_c2s,
	       st.tcp_bytes_s2c, st.tcp_open, st.tcp_peak, st.queued_peak, st.late_n,
	       st.late_n ? (double)st.late_sum_ns / (double)st.late_n / 1e3 : 0.0,
	       (double)st.late_max_ns / 1e3, late_quantile(0.5), late_quantile(0.99),
	       late_quantile(0.999));
	for (size_t b = 0; b < LATE_BUCKETS; b++)
		printf("%s[%ld, %" PRIu64 "]", b ? ", " : "",
		       b < LATE_BUCKETS - 1 ? (long)late_edge_us[b] : -1L, st.late[b]);
	printf("]}\n");
	fflush(stdout);
	/* lateness is per interval; the rest is cumulative */
	st.late_n = st.late_max_ns = st.late_sum_ns = 0;
	memset(st.late, 0, sizeof(st.late));
	st.queued_peak = st.queued;
	st.tcp_peak = st.tcp_open;
}

/* ---- queues of delayed bytes ---------------------------------------------------------- */

struct chunk {
	struct chunk *next;
	uint64_t due;
	uint32_t len, off;	/* len 0: end of stream */
	unsigned char data[];
};

struct queue {
	struct chunk *head, *tail;
	size_t bytes;
};

static struct chunk *chunk_new(const void *data, size_t len, uint64_t due)
{
	struct chunk *c = xrealloc(NULL, sizeof(*c) + len);

	c->next = NULL;
	c->due = due;
	c->len = (uint32_t)len;
	c->off = 0;
	if (len)
		memcpy(c->data, data, len);
	return c;
}

static void queue_push(struct queue *q, struct chunk *c)
{
	if (q->tail)
		q->tail->next = c;
	else
		q->head = c;
	q->tail = c;
	q->bytes += c->len;
	st.queued += c->len;
	if (st.queued > st.queued_peak)
		st.queued_peak = st.queued;
}

static void queue_pop(struct queue *q)
{
	struct chunk *c = q->head;

	q->head = c->next;
	if (!q->head)
		q->tail = NULL;
	q->bytes -= c->len;
	st.queued -= c->len;
	free(c);
}

static void queue_clear(struct queue *q)
{
	while (q->head)
		queue_pop(q);
}

/* ---- sockets and namespaces ----------------------------------------------------------- */

static int epfd = -1;
static int ns_home = -1, ns_up = -1;
static uint64_t delay_ns;
static uint64_t slack_ns;	/* --slack-us: how late a timer may fire, to batch wake-ups */
static uint64_t max_queue = 256ull << 20;
static uint64_t udp_in_flight;	/* --udp-in-flight: 0 = no limit */
static unsigned char rbuf[READ_MAX];

enum ep_kind { EP_TCP_LISTEN, EP_UDP_LISTEN, EP_TCP_CLI, EP_TCP_SRV, EP_UDP_UP, EP_SIGNAL };

struct ep {
	enum ep_kind kind;
	int fd;
	uint32_t events;	/* what epoll watches now; UINT32_MAX: not in the epoll set */
	void *owner;
};

/* Watch events on e; none takes it out of the epoll set, so that a hang-up it cannot act
 * on now (level-triggered) does not wake the loop again and again. */
static int ep_watch(struct ep *e, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = e};
	int op = e->events == UINT32_MAX ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;

	if (events == e->events || (events == 0 && e->events == UINT32_MAX))
		return 0;
	if (events == 0) {
		if (epoll_ctl(epfd, EPOLL_CTL_DEL, e->fd, NULL) != 0)
			return -1;
		e->events = UINT32_MAX;
		return 0;
	}
	if (epoll_ctl(epfd, op, e->fd, &ev) != 0)
		return -1;
	e->events = events;
	return 0;
}

static void ep_close(struct ep *e)
{
	if (e->fd >= 0) {
		if (e->events != UINT32_MAX)
			epoll_ctl(epfd, EPOLL_CTL_DEL, e->fd, NULL);
		close(e->fd);
	}
	e->fd = -1;
	e->events = UINT32_MAX;
}

/* A socket in the upstream namespace when one is given (setns there and back). */
static int socket_up(int family, int type)
{
	int fd, err;

	if (ns_up >= 0 && setns(ns_up, CLONE_NEWNET) != 0)
		return -1;
	fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	err = errno;
	if (ns_up >= 0 && setns(ns_home, CLONE_NEWNET) != 0) {
		fprintf(stderr, "latency_proxy: setns back home: %s\n", strerror(errno));
		exit(1);
	}
	errno = err;
	return fd;
}

static void sock_bufs(int fd)
{
	int n = SOCK_BUF;

	/* as root past net.core.[rw]mem_max; else as much as the limit allows */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &n, sizeof(n)) != 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &n, sizeof(n));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &n, sizeof(n)) != 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &n, sizeof(n));
}

static void nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* ---- TCP ------------------------------------------------------------------------------ */

struct tcp_listener {
	struct ep ep;
	struct sockaddr_storage target;
	socklen_t target_len;
	struct timer retry;	/* accept failed for want of descriptors: listen again later */
};

struct tcp_conn;

struct tcp_dir {
	struct queue q;
	struct timer t;		/* at the head chunk's due time */
	struct ep *from, *to;
	struct tcp_conn *c;
	bool eof_in;		/* end of stream (or an error) read from `from` */
	bool done;		/* end of stream passed on to `to` */
	bool blocked;		/* a partial write: wait for EPOLLOUT on `to` */
};

enum conn_state { CONN_WAIT, CONN_CONNECTING, CONN_OPEN, CONN_FAILED };

struct tcp_conn {
	struct ep cli, srv;
	struct tcp_dir c2s, s2c;
	struct timer t;		/* CONN_WAIT: the upstream connect; CONN_FAILED: the close */
	struct tcp_listener *l;
	uint64_t not_before;	/* the earliest due time of client bytes: accept + 3D */
	enum conn_state state;
	bool dead;		/* closed; freed after the current batch of events */
	struct tcp_conn *next_dead;
};

static struct tcp_conn *graveyard;

/* Close a connection now; its memory goes after the batch of events that may name it. */
static void conn_free(struct tcp_conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	c->next_dead = graveyard;
	graveyard = c;
	timer_cancel(&c->t);
	timer_cancel(&c->c2s.t);
	timer_cancel(&c->s2c.t);
	queue_clear(&c->c2s.q);
	queue_clear(&c->s2c.q);
	ep_close(&c->cli);
	ep_close(&c->srv);
	st.tcp_open--;
}

static void graveyard_empty(void)
{
	while (graveyard) {
		struct tcp_conn *c = graveyard;

		graveyard = c->next_dead;
		free(c);
	}
}

/* Bring what epoll watches on both sockets in line with the connection's state. */
static int conn_interest(struct tcp_conn *c)
{
	uint32_t ce = 0, se = 0;

	if (!c->c2s.eof_in && c->c2s.q.bytes < TCP_DIR_CAP)
		ce |= EPOLLIN;
	if (c->s2c.blocked)
		ce |= EPOLLOUT;
	if (c->state == CONN_OPEN) {
		if (!c->s2c.eof_in && c->s2c.q.bytes < TCP_DIR_CAP)
			se |= EPOLLIN;
		if (c->c2s.blocked)
			se |= EPOLLOUT;
	} else if (c->state == CONN_CONNECTING) {
		se = EPOLLOUT;
	}
	if (c->cli.fd >= 0 && ep_watch(&c->cli, ce) != 0)
		return -1;
	if (c->srv.fd >= 0 && ep_watch(&c->srv, se) != 0)
		return -1;
	return 0;
}

static void dir_schedule(struct tcp_dir *d)
{
	if (d->q.head && !d->blocked && d->to->fd >= 0 &&
	    (d != &d->c->c2s || d->c->state == CONN_OPEN))
		timer_set(&d->t, d->q.head->due);
	else
		timer_cancel(&d->t);
}

static void conn_abort(struct tcp_conn *c)
{
	st.tcp_aborted++;
	conn_free(c);
}

/* After a change: close when both ends of stream went through, else watch and schedule. */
static void conn_settle(struct tcp_conn *c)
{
	if (c->c2s.done && c->s2c.done) {
		conn_free(c);
		return;
	}
	dir_schedule(&c->c2s);
	dir_schedule(&c->s2c);
	if (conn_interest(c) != 0)
		conn_abort(c);
}

/* Write what is due; returns -1 when the connection is gone. */
static int dir_flush(struct tcp_dir *d, bool timed)
{
	uint64_t now = now_ns();

	d->blocked = false;
	while (d->q.head && d->q.head->due <= now) {
		struct chunk *k = d->q.head;
		ssize_t n;

		if (k->off == 0 && timed)
			late_record(now, k->due);
		if (k->len == 0) {
			shutdown(d->to->fd, SHUT_WR);
			d->done = true;
			queue_pop(&d->q);
			queue_clear(&d->q);
			break;
		}
		n = send(d->to->fd, k->data + k->off, k->len - k->off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			d->blocked = true;
			break;
		}
		if (n < 0) {
			conn_abort(d->c);
			return -1;
		}
		if (d == &d->c->c2s)
			st.tcp_bytes_c2s += (uint64_t)n;
		else
			st.tcp_bytes_s2c += (uint64_t)n;
		k->off += (uint32_t)n;
		if (k->off < k->len) {
			d->blocked = true;
			break;
		}
		queue_pop(&d->q);
	}
	conn_settle(d->c);
	return 0;
}

static void dir_timer(struct timer *t)
{
	struct tcp_dir *d = CONTAINER(t, struct tcp_dir, t);

	dir_flush(d, true);
}

/* Read from d->from; returns -1 when the connection is gone. */
static int dir_read(struct tcp_dir *d)
{
	for (int i = 0; i < 4 && !d->eof_in && d->q.bytes < TCP_DIR_CAP; i++) {
		ssize_t n = recv(d->from->fd, rbuf, sizeof(rbuf), MSG_DONTWAIT);
		uint64_t due = now_ns() + delay_ns;

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			break;
		if (d == &d->c->c2s && due < d->c->not_before)
			due = d->c->not_before;
		/* an error ends the stream like an orderly close, after the same delay */
		if (n <= 0)
			d->eof_in = true;
		queue_push(&d->q, chunk_new(rbuf, n > 0 ? (size_t)n : 0, due));
	}
	conn_settle(d->c);
	return 0;
}

/* A socket failed (a reset): what it would still send ends like an orderly close, after
 * the delay, and what was queued for it is dropped. */
static void conn_broken(struct tcp_conn *c, struct ep *e)
{
	struct tcp_dir *in = e == &c->cli ? &c->c2s : &c->s2c;
	struct tcp_dir *out = e == &c->cli ? &c->s2c : &c->c2s;
	uint64_t due = now_ns() + delay_ns;

	if (!in->eof_in) {
		in->eof_in = true;
		if (in == &c->c2s && due < c->not_before)
			due = c->not_before;
		queue_push(&in->q, chunk_new(NULL, 0, due));
	}
	queue_clear(&out->q);
	out->blocked = false;
	out->done = true;
	conn_settle(c);
}

static void conn_close_timer(struct timer *t)
{
	struct tcp_conn *c = CONTAINER(t, struct tcp_conn, t);

	conn_free(c);
}

static void conn_failed(struct tcp_conn *c)
{
	/* the server is unreachable: the client sees its connection close a delay later */
	st.tcp_connect_failed++;
	ep_close(&c->srv);
	c->state = CONN_FAILED;
	queue_clear(&c->c2s.q);
	queue_clear(&c->s2c.q);
	c->c2s.eof_in = c->s2c.eof_in = true;
	c->c2s.blocked = c->s2c.blocked = false;
	timer_cancel(&c->c2s.t);
	timer_cancel(&c->s2c.t);
	c->t.fire = conn_close_timer;
	timer_set(&c->t, now_ns() + delay_ns);
	if (conn_interest(c) != 0)
		conn_abort(c);
}

static void conn_opened(struct tcp_conn *c)
{
	c->state = CONN_OPEN;
	nodelay(c->srv.fd);
	/* client bytes that fell due while connecting go at once, the rest on time */
	dir_flush(&c->c2s, false);
}

static void conn_connect_timer(struct timer *t)
{
	struct tcp_conn *c = CONTAINER(t, struct tcp_conn, t);
	const struct sockaddr *sa = (const struct sockaddr *)&c->l->target;
	int fd;

	if (delay_ns)
		late_record(now_ns(), t->due);
	fd = socket_up(sa->sa_family, SOCK_STREAM);

	if (fd < 0) {
		conn_failed(c);
		return;
	}
	c->srv.fd = fd;
	c->state = CONN_CONNECTING;
	if (connect(fd, sa, c->l->target_len) == 0) {
		if (conn_interest(c) == 0)
			conn_opened(c);
		else
			conn_abort(c);
		return;
	}
	if (errno != EINPROGRESS) {
		conn_failed(c);
		return;
	}
	if (conn_interest(c) != 0)
		conn_abort(c);
}

static void srv_writable(struct tcp_conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (c->state == CONN_CONNECTING) {
		if (getsockopt(c->srv.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
			conn_failed(c);
			return;
		}
		conn_opened(c);
		return;
	}
	if (c->c2s.blocked)
		dir_flush(&c->c2s, false);
}

static void listener_retry(struct timer *t)
{
	struct tcp_listener *l = CONTAINER(t, struct tcp_listener, retry);

	ep_watch(&l->ep, EPOLLIN);
}

static void tcp_accept(struct tcp_listener *l)
{
	for (int i = 0; i < 64; i++) {
		int fd = accept4(l->ep.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct tcp_conn *c;
		uint64_t now;

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* out of descriptors: stop listening for 10 ms */
				st.tcp_accept_errors++;
				ep_watch(&l->ep, 0);
				timer_set(&l->retry, now_ns() + NS / 100);
			}
			return;
		}
		now = now_ns();
		c = xrealloc(NULL, sizeof(*c));
		memset(c, 0, sizeof(*c));
		c->cli = (struct ep){.kind = EP_TCP_CLI, .fd = fd, .events = UINT32_MAX, .owner = c};
		c->srv = (struct ep){.kind = EP_TCP_SRV, .fd = -1, .events = UINT32_MAX, .owner = c};
		c->c2s = (struct tcp_dir){.from = &c->cli, .to = &c->srv, .c = c};
		c->s2c = (struct tcp_dir){.from = &c->srv, .to = &c->cli, .c = c};
		c->c2s.t = (struct timer){.idx = NOT_QUEUED, .fire = dir_timer};
		c->s2c.t = (struct timer){.idx = NOT_QUEUED, .fire = dir_timer};
		c->t = (struct timer){.idx = NOT_QUEUED, .fire = conn_connect_timer};
		c->l = l;
		c->state = CONN_WAIT;
		c->not_before = now + 3 * delay_ns;
		nodelay(fd);
		st.tcp_accepted++;
		if (++st.tcp_open > st.tcp_peak)
			st.tcp_peak = st.tcp_open;
		if (delay_ns == 0) {
			conn_connect_timer(&c->t);
			continue;
		}
		timer_set(&c->t, c->not_before);
		if (conn_interest(c) != 0)
			conn_abort(c);
	}
}

/* ---- UDP ------------------------------------------------------------------------------ */

struct udp_listener;

struct udp_flow {
	struct ep up;			/* connected to the target, in the upstream namespace */
	struct udp_listener *l;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	struct queue c2s, s2c;
	struct timer t_c2s, t_s2c;
	uint64_t last;
	uint32_t drops_seen;		/* SO_RXQ_OVFL of the upstream socket */
	struct udp_flow *hnext, *prev, *next;
};

struct udp_listener {
	struct ep ep;
	struct sockaddr_storage target;
	socklen_t target_len;
	uint32_t drops_seen;
	struct udp_listener *next;
};

#define FLOW_HASH 16384
static struct udp_flow *flow_hash[FLOW_HASH];
static struct udp_flow *flows;		/* every flow, for the idle sweep */
static struct udp_listener *udp_listeners;

static size_t addr_hash(const struct udp_listener *l, const struct sockaddr_storage *a)
{
	uint64_t h = (uintptr_t)l;

	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)a;

		h ^= ((uint64_t)s->sin_addr.s_addr << 16) ^ s->sin_port;
	} else {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)a;
		uint64_t x[2];

		memcpy(x, &s->sin6_addr, sizeof(x));
		h ^= x[0] ^ (x[1] << 1) ^ s->sin6_port;
	}
	h *= 0x9e3779b97f4a7c15ull;
	return (size_t)(h >> 40) % FLOW_HASH;
}

static bool addr_eq(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const struct sockaddr_in *)a;
		const struct sockaddr_in *y = (const struct sockaddr_in *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
	const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;

	return x->sin6_port == y->sin6_port &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

static void flow_free(struct udp_flow *f)
{
	struct udp_flow **pp = &flow_hash[addr_hash(f->l, &f->peer)];

	while (*pp != f)
		pp = &(*pp)->hnext;
	*pp = f->hnext;
	if (f->prev)
		f->prev->next = f->next;
	else
		flows = f->next;
	if (f->next)
		f->next->prev = f->prev;
	timer_cancel(&f->t_c2s);
	timer_cancel(&f->t_s2c);
	queue_clear(&f->c2s);
	queue_clear(&f->s2c);
	ep_close(&f->up);
	st.udp_flows--;
	free(f);
}

static void flow_c2s_timer(struct timer *t);
static void flow_s2c_timer(struct timer *t);

static struct udp_flow *flow_get(struct udp_listener *l, const struct sockaddr_storage *peer,
				 socklen_t peer_len)
{
	size_t h = addr_hash(l, peer);
	struct udp_flow *f;
	int fd, one = 1;

	for (f = flow_hash[h]; f; f = f->hnext)
		if (f->l == l && addr_eq(&f->peer, peer))
			return f;
	if (st.udp_flows >= UDP_FLOWS_MAX)
		return NULL;
	fd = socket_up(l->target.ss_family, SOCK_DGRAM);
	if (fd < 0)
		return NULL;
	sock_bufs(fd);
	setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)&l->target, l->target_len) != 0) {
		close(fd);
		return NULL;
	}
	f = xrealloc(NULL, sizeof(*f));
	memset(f, 0, sizeof(*f));
	f->up = (struct ep){.kind = EP_UDP_UP, .fd = fd, .events = UINT32_MAX, .owner = f};
	if (ep_watch(&f->up, EPOLLIN) != 0) {
		close(fd);
		free(f);
		return NULL;
	}
	f->l = l;
	f->peer = *peer;
	f->peer_len = peer_len;
	f->t_c2s = (struct timer){.idx = NOT_QUEUED, .fire = flow_c2s_timer};
	f->t_s2c = (struct timer){.idx = NOT_QUEUED, .fire = flow_s2c_timer};
	f->hnext = flow_hash[h];
	flow_hash[h] = f;
	f->next = flows;
	if (flows)
		flows->prev = f;
	flows = f;
	st.udp_flows++;
	return f;
}

static void flow_send(struct udp_flow *f, struct queue *q, struct timer *t, bool to_client)
{
	uint64_t now = now_ns();

	while (q->head && q->head->due <= now) {
		struct chunk *k = q->head;
		ssize_t n;

		late_record(now, k->due);
		if (to_client)
			n = sendto(f->l->ep.fd, k->data, k->len, MSG_DONTWAIT,
				   (const struct sockaddr *)&f->peer, f->peer_len);
		else
			n = send(f->up.fd, k->data, k->len, MSG_DONTWAIT);
		if (n < 0 && errno != ECONNREFUSED)
			st.udp_dropped_send++;
		else if (to_client)
			st.udp_out++;
		if (to_client)
			st.udp_answered++;
		queue_pop(q);
	}
	if (q->head)
		timer_set(t, q->head->due);
}

static void flow_c2s_timer(struct timer *t)
{
	struct udp_flow *f = CONTAINER(t, struct udp_flow, t_c2s);

	flow_send(f, &f->c2s, &f->t_c2s, false);
}

static void flow_s2c_timer(struct timer *t)
{
	struct udp_flow *f = CONTAINER(t, struct udp_flow, t_s2c);

	flow_send(f, &f->s2c, &f->t_s2c, true);
}

static bool udp_enqueue(struct queue *q, struct timer *t, const void *data, size_t len,
			uint64_t now)
{
	if (st.queued + len > max_queue) {
		st.udp_dropped_queue++;
		return false;
	}
	queue_push(q, chunk_new(data, len, now + delay_ns));
	if (t->idx == NOT_QUEUED)
		timer_set(t, q->head->due);
	return true;
}

static struct mmsghdr msgs[UDP_BATCH];
static struct iovec iovs[UDP_BATCH];
static struct sockaddr_storage peers[UDP_BATCH];
static char cmsgs[UDP_BATCH][CMSG_SPACE(sizeof(uint32_t))];
static unsigned char *ubufs;

/* Receive a batch; returns the count, with the socket's own drop counter updated. */
static int udp_recv_batch(int fd, uint32_t *drops_seen)
{
	int n;

	for (int i = 0; i < UDP_BATCH; i++) {
		iovs[i].iov_base = ubufs + (size_t)i * READ_MAX;
		iovs[i].iov_len = READ_MAX;
		msgs[i].msg_hdr = (struct msghdr){.msg_name = &peers[i],
						  .msg_namelen = sizeof(peers[i]),
						  .msg_iov = &iovs[i], .msg_iovlen = 1,
						  .msg_control = cmsgs[i],
						  .msg_controllen = sizeof(cmsgs[i])};
	}
	n = recvmmsg(fd, msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; i < n; i++) {
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msgs[i].msg_hdr); cm;
		     cm = CMSG_NXTHDR(&msgs[i].msg_hdr, cm)) {
			uint32_t v;

			if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SO_RXQ_OVFL)
				continue;
			memcpy(&v, CMSG_DATA(cm), sizeof(v));
			if (v > *drops_seen) {
				st.udp_sock_drops += v - *drops_seen;
				*drops_seen = v;
			}
		}
	}
	return n;
}

static void udp_from_clients(struct udp_listener *l)
{
	for (int round = 0; round < 8; round++) {
		int n = udp_recv_batch(l->ep.fd, &l->drops_seen);
		uint64_t now = now_ns();

		if (n <= 0)
			return;
		for (int i = 0; i < n; i++) {
			struct udp_flow *f = flow_get(l, &peers[i], msgs[i].msg_hdr.msg_namelen);

			st.udp_in++;
			if (!f) {
				st.udp_dropped_flows++;
				continue;
			}
			f->last = now;
			if (udp_in_flight && st.udp_taken - st.udp_answered >= udp_in_flight) {
				st.udp_dropped_busy++;
				continue;
			}
			if (udp_enqueue(&f->c2s, &f->t_c2s, iovs[i].iov_base, msgs[i].msg_len, now))
				st.udp_taken++;
		}
		if (n < UDP_BATCH)
			return;
	}
}

static void udp_from_server(struct udp_flow *f)
{
	for (int round = 0; round < 8; round++) {
		int n = udp_recv_batch(f->up.fd, &f->drops_seen);
		uint64_t now = now_ns();

		if (n <= 0)
			return;
		f->last = now;
		for (int i = 0; i < n; i++)
			udp_enqueue(&f->s2c, &f->t_s2c, iovs[i].iov_base, msgs[i].msg_len, now);
		if (n < UDP_BATCH)
			return;
	}
}

static struct timer sweep_t;

static void sweep_timer(struct timer *t)
{
	uint64_t now = now_ns();
	struct udp_flow *f = flows, *next;

	for (; f; f = next) {
		next = f->next;
		/* a client that sends from a new port for each query (node's c-ares) would
		 * otherwise keep a descriptor per query for as long */
		if (now - f->last > UDP_IDLE_NS && now - f->last > 10 * delay_ns && !f->c2s.head &&
		    !f->s2c.head)
			flow_free(f);
	}
	timer_set(t, now + NS);
}

/* ---- set-up --------------------------------------------------------------------------- */

static int parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *colon = strrchr(s, ':');
	size_t hl;
	char *end;
	long port;

	if (!colon)
		return -1;
	hl = (size_t)(colon - s);
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
		s++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host))
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end || port <= 0 || port > 65535)
		return -1;
	memset(ss, 0, sizeof(*ss));
	if (strchr(host, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return -1;
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -1;
		*len = sizeof(*a);
	}
	return 0;
}

static int listen_spec(const char *spec)
{
	char buf[300];
	char *eq;
	struct sockaddr_storage la, ta;
	socklen_t ll, tl;
	bool tcp;
	int fd, one = 1, rc = -1;

	if (strlen(spec) >= sizeof(buf))
		goto out;
	strcpy(buf, spec);
	if (strncmp(buf, "tcp:", 4) == 0)
		tcp = true;
	else if (strncmp(buf, "udp:", 4) == 0)
		tcp = false;
	else
		goto out;
	eq = strchr(buf, '=');
	if (!eq)
		goto out;
	*eq = '\0';
	if (parse_addr(buf + 4, &la, &ll) != 0 || parse_addr(eq + 1, &ta, &tl) != 0)
		goto out;
	fd = socket(la.ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		goto out;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (!tcp) {
		sock_bufs(fd);
		setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	}
	if (bind(fd, (struct sockaddr *)&la, ll) != 0 || (tcp && listen(fd, 65535) != 0)) {
		fprintf(stderr, "latency_proxy: %s: %s\n", spec, strerror(errno));
		close(fd);
		goto out;
	}
	if (tcp) {
		struct tcp_listener *l = xrealloc(NULL, sizeof(*l));

		memset(l, 0, sizeof(*l));
		l->ep = (struct ep){.kind = EP_TCP_LISTEN, .fd = fd, .events = UINT32_MAX, .owner = l};
		l->target = ta;
		l->target_len = tl;
		l->retry = (struct timer){.idx = NOT_QUEUED, .fire = listener_retry};
		rc = ep_watch(&l->ep, EPOLLIN);
	} else {
		struct udp_listener *l = xrealloc(NULL, sizeof(*l));

		memset(l, 0, sizeof(*l));
		l->ep = (struct ep){.kind = EP_UDP_LISTEN, .fd = fd, .events = UINT32_MAX, .owner = l};
		l->target = ta;
		l->target_len = tl;
		l->next = udp_listeners;
		udp_listeners = l;
		rc = ep_watch(&l->ep, EPOLLIN);
	}
out:
	if (rc != 0)
		fprintf(stderr, "latency_proxy: cannot listen as %s\n", spec);
	return rc;
}

static void usage(void)
{
	fprintf(stderr, "usage: latency_proxy [--upstream-netns NS] [--max-queue-mib M] "
		"[--realtime] [--slack-us U] DELAY_MS SPEC...\n  SPEC: udp:LISTEN_IP:PORT=TARGET_IP:PORT or "
		"tcp:LISTEN_IP:PORT=TARGET_IP:PORT\n");
}

static void dispatch(struct ep *e, uint32_t ev)
{
	switch (e->kind) {
	case EP_TCP_LISTEN:
		tcp_accept(e->owner);
		break;
	case EP_UDP_LISTEN:
		udp_from_clients(e->owner);
		break;
	case EP_UDP_UP:
		udp_from_server(e->owner);
		break;
	case EP_TCP_CLI: {
		struct tcp_conn *c = e->owner;

		if (!c->dead && (ev & EPOLLERR) && c->state != CONN_FAILED) {
			conn_broken(c, e);
			break;
		}
		/* each step may close the connection: check before the next */
		if (!c->dead && (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && c->s2c.blocked)
			dir_flush(&c->s2c, false);
		if (!c->dead && (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) && (c->cli.events & EPOLLIN))
			dir_read(&c->c2s);
		break;
	}
	case EP_TCP_SRV: {
		struct tcp_conn *c = e->owner;

		if (!c->dead && (ev & EPOLLERR) && c->state == CONN_OPEN) {
			conn_broken(c, e);
			break;
		}
		if (!c->dead && (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) &&
		    (c->state == CONN_CONNECTING || c->c2s.blocked)) {
			bool was_connecting = c->state == CONN_CONNECTING;

			srv_writable(c);
			if (was_connecting)
				break;	/* settled there; reading starts with the next events */
		}
		if (!c->dead && c->state == CONN_OPEN && (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) &&
		    (c->srv.events & EPOLLIN))
			dir_read(&c->s2c);
		break;
	}
	case EP_SIGNAL:
		break;
	}
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	struct ep sig_ep;
	sigset_t mask;
	int i = 1, sfd;
	char *end;
	double ms;

	while (i < argc && strncmp(argv[i], "--", 2) == 0) {
		if (strcmp(argv[i], "--upstream-netns") == 0 && i + 1 < argc) {
			char path[300];

			snprintf(path, sizeof(path), "/run/netns/%s", argv[i + 1]);
			ns_up = open(path, O_RDONLY | O_CLOEXEC);
			ns_home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
			if (ns_up < 0 || ns_home < 0) {
				fprintf(stderr, "latency_proxy: %s: %s\n", path, strerror(errno));
				return 1;
			}
			i += 2;
		} else if (strcmp(argv[i], "--realtime") == 0) {
			struct sched_param sp = {.sched_priority = 10};

			if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0 &&
			    setpriority(PRIO_PROCESS, 0, -10) != 0)
				fprintf(stderr, "latency_proxy: --realtime: %s; at normal priority\n",
					strerror(errno));
			i++;
		} else if (strcmp(argv[i], "--slack-us") == 0 && i + 1 < argc) {
			slack_ns = strtoull(argv[i + 1], NULL, 10) * 1000;
			i += 2;
		} else if (strcmp(argv[i], "--udp-in-flight") == 0 && i + 1 < argc) {
			udp_in_flight = strtoull(argv[i + 1], NULL, 10);
			i += 2;
		} else if (strcmp(argv[i], "--max-queue-mib") == 0 && i + 1 < argc) {
			max_queue = strtoull(argv[i + 1], NULL, 10) << 20;
			i += 2;
		} else {
			usage();
			return 2;
		}
	}
	if (argc - i < 2) {
		usage();
		return 2;
	}
	ms = strtod(argv[i], &end);
	if (*end || ms < 0 || ms > 60000) {
		usage();
		return 2;
	}
	delay_ns = (uint64_t)(ms * 1e6);
	i++;
	/* a descriptor per socket, two per TCP connection: as root past the hard limit
	 * (up to 1 Mi, within fs.nr_open), else up to it */
	rl.rlim_cur = rl.rlim_max = 1 << 20;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 && getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	ubufs = xrealloc(NULL, (size_t)UDP_BATCH * READ_MAX);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		return 1;
	for (; i < argc; i++)
		if (listen_spec(argv[i]) != 0)
			return 1;
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	sig_ep = (struct ep){.kind = EP_SIGNAL, .fd = sfd, .events = UINT32_MAX, .owner = NULL};
	if (sfd < 0 || ep_watch(&sig_ep, EPOLLIN) != 0)
		return 1;
	sweep_t = (struct timer){.idx = NOT_QUEUED, .fire = sweep_timer};
	timer_set(&sweep_t, now_ns() + NS);
	printf("ready\n");
	fflush(stdout);

	for (;;) {
		struct epoll_event evs[256];
		struct timespec ts, *tp = NULL;
		uint64_t now = now_ns();
		int n;

		/* every timer that is due, then the sockets */
		while (heap_len && heap[0]->due <= now) {
			struct timer *t = heap[0];

			timer_cancel(t);
			t->fire(t);
			now = now_ns();
		}
		graveyard_empty();
		if (heap_len) {
			uint64_t wait = heap[0]->due - now + slack_ns;

			ts.tv_sec = (time_t)(wait / NS);
			ts.tv_nsec = (long)(wait % NS);
			tp = &ts;
		}
		n = epoll_pwait2(epfd, evs, 256, tp, NULL);
		if (n < 0 && errno != EINTR) {
			perror("latency_proxy: epoll_pwait2");
			return 1;
		}
		for (int k = 0; k < n; k++) {
			struct ep *e = evs[k].data.ptr;

			if (e->kind == EP_SIGNAL) {
				struct signalfd_siginfo si;

				while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
					stats_print();
					if (si.ssi_signo != SIGUSR1)
						return 0;
				}
				continue;
			}
			dispatch(e, evs[k].events);
		}
		graveyard_empty();
	}
}

/* dns_probe: DNS questions (TXT, MX, A/AAAA) through c-ares on the event loop. */
#include "dns_probe.h"
#include "dns_answer.h"
#include "dns_pace.h"
#include "lib/defs.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#include <ares.h>
#include <inttypes.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>


/*
 * The window on questions out at once (dns_pace): it starts where a local recursive
 * resolver is comfortable, never shrinks below what keeps a sweep moving against a
 * resolver that drops most questions, and never grows past what one UDP socket's 4 MiB
 * receive buffer holds in answers.
 */
#define DNS_PACE_INITIAL 64
#define DNS_PACE_MIN 16
#define DNS_PACE_MAX 4096
/* asks more of a question that got no answer while the resolver was dropping questions */
#define DNS_REASKS 2

/* One question to c-ares: sent when the window has room, queued until then. */
struct dns_send {
	struct dns_client *dc;
	struct dns_send *next;	/* in the queue */
	ares_callback cb;
	void *arg;
	int type;
	unsigned reasks;	/* asked again after every try went unanswered */
	uint64_t first_sent, sent;	/* loop ms */
	char name[HOST_LEN];
};

struct dns_client {
	struct loop *lp;
	ares_channel ch;
	struct loop_timer *timer;
	unsigned pending;
	unsigned timeout_ms;
	bool closing;
	bool draining;
	struct dns_query *early;	/* answered inside the call that asked, to report later */
	struct dns_pace pace;
	struct dns_send *queue, **queue_tail;	/* waiting for room in the window */
};

enum qkind { Q_TXT, Q_MX, Q_ADDR };

/*
 * A CNAME chain that an answer left short, followed by asking for its last name: the
 * names seen so far, the question's first. Made only when an answer needs it.
 */
struct chase {
	char names[DNS_CNAME_HOPS + 2][HOST_LEN];
	size_t n;
};

struct dns_query {
	struct dns_client *dc;
	struct dns_query *prev, *next;	/* in dc->early while it waits for later */
	enum qkind kind;
	void *fn;	/* NULL once cancelled: the answer is dropped */
	void *arg;
	unsigned waiting;	/* answers still due (2 for A + AAAA) */
	bool starting;		/* inside dns_query_*: c-ares may answer at once */
	bool answered;		/* every answer is in */
	struct loop_timer *later;
	char name[HOST_LEN];
	struct chase *chase;	/* TXT and MX */
	union {
		struct txt_answer txt;
		struct mx_answer mx;
		struct addr_answer addr;
	} u;
};

static void arm(struct dns_client *dc);
static void finish(struct dns_query *q);

static void on_timer(void *arg)
{
	struct dns_client *dc = arg;

	dc->timer = NULL;
	ares_process_fd(dc->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	arm(dc);
}

/*
 * Keep a timer for c-ares's next timeout. ares_timeout walks every question out, so it is
 * asked only when no timer is set: one that is set falls due no later than any question
 * sent since (each waits a whole timeout), and when it fires it asks again.
 */
static void arm(struct dns_client *dc)
{
	struct timeval tv, *tvp;
	uint64_t ms;

	if (dc->closing || dc->timer || !dc->pending)
		return;
	tvp = ares_timeout(dc->ch, NULL, &tv);
	ms = tvp ? (uint64_t)tvp->tv_sec * 1000 + (uint64_t)tvp->tv_usec / 1000 : 1000;
	dc->timer = loop_timer_add(dc->lp, ms, on_timer, dc);
}

static void on_io(void *arg, int fd, unsigned events)
{
	struct dns_client *dc = arg;

	ares_process_fd(dc->ch, (events & LOOP_READ) ? fd : ARES_SOCKET_BAD,
			(events & LOOP_WRITE) ? fd : ARES_SOCKET_BAD);
	arm(dc);
}

static void drain(struct dns_client *dc);

/*
 * c-ares's answer to a question sent: count it for the window, pass it on, send more. A
 * question every try of which went unanswered while other questions were lost to the load
 * goes back in line (DNS_REASKS times at most): a busy resolver is a reason to slow down
 * and ask again, and "no answer" is said only of a name that really gets none.
 */
static void on_sent(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_send *sd = arg;
	struct dns_client *dc = sd->dc;
	ares_callback cb = sd->cb;
	void *cbarg = sd->arg;

	if (status != ARES_EDESTRUCTION && !dc->closing) {
		uint64_t now = loop_now(dc->lp);
		enum pace_outcome how = status == ARES_ETIMEOUT ? PACE_NO_ANSWER :
					timeouts > 0 ? PACE_LATE_ANSWER : PACE_ANSWER;
		uint64_t rtt = now > sd->sent ? now - sd->sent : 0;

		dns_pace_done(&dc->pace, how, rtt > UINT32_MAX ? UINT32_MAX : (uint32_t)rtt, now,
			      dc->queue != NULL);
		if (how == PACE_NO_ANSWER && sd->reasks < DNS_REASKS &&
		    dns_pace_lossy_since(&dc->pace, sd->first_sent)) {
			sd->reasks++;
			dc->pace.reasked++;
			sd->next = dc->queue;	/* first in line: it has waited longest */
			if (!dc->queue)
				dc->queue_tail = &sd->next;
			dc->queue = sd;
			drain(dc);
			return;
		}
	}
	free(sd);
	cb(cbarg, status, timeouts, abuf, alen);
	drain(dc);
}

/* Send what the window has room for, oldest first. */
static void drain(struct dns_client *dc)
{
	if (dc->draining || dc->closing)
		return;
	dc->draining = true;	/* an answer given inside ares_query comes back here */
	while (dc->queue && dns_pace_may_send(&dc->pace)) {
		struct dns_send *sd = dc->queue;

		dc->queue = sd->next;
		if (!dc->queue)
			dc->queue_tail = &dc->queue;
		dns_pace_sent(&dc->pace);
		sd->sent = loop_now(dc->lp);
		if (!sd->reasks)
			sd->first_sent = sd->sent;
		ares_query(dc->ch, sd->name, ns_c_in, sd->type, on_sent, sd);
	}
	dc->draining = false;
}

/* Every question goes out through here: now if the window has room, else in turn. */
static void ask(struct dns_client *dc, const char *name, int type, ares_callback cb, void *arg)
{
	struct dns_send *sd = xcalloc(1, sizeof(*sd));

	sd->dc = dc;
	sd->cb = cb;
	sd->arg = arg;
	sd->type = type;
	strlcpy_s(sd->name, name, sizeof(sd->name));
	if (dc->queue || !dns_pace_may_send(&dc->pace))
		dc->pace.queued++;
	*dc->queue_tail = sd;
	dc->queue_tail = &sd->next;
	drain(dc);
}

static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns_client *dc = data;
	unsigned ev = (readable ? LOOP_READ : 0) | (writable ? LOOP_WRITE : 0);

	loop_io(dc->lp, fd, ev, on_io, dc);
}

struct dns_client *dns_client_new(struct loop *lp, const char *servers, unsigned timeout_ms,
				  unsigned tries, char *err, size_t errlen)
{
	struct dns_client *dc = xcalloc(1, sizeof(*dc));
	struct ares_options opts;
	int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
		   ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ | ARES_OPT_SOCK_RCVBUF;
	int rc;

	dc->lp = lp;
	dc->timeout_ms = timeout_ms;
	dc->queue_tail = &dc->queue;
	dns_pace_init(&dc->pace, DNS_PACE_INITIAL, DNS_PACE_MIN, DNS_PACE_MAX);
	memset(&opts, 0, sizeof(opts));
	opts.sock_state_cb = sock_state;
	opts.sock_state_cb_data = dc;
	opts.timeout = (int)timeout_ms;
	opts.tries = (int)tries;
	/*
	 * NOCHECKRESP: a SERVFAIL or REFUSED answer is reported as such. Without it c-ares
	 * tries the next server and ends with "could not contact DNS servers", which reads
	 * like an unreachable resolver (timeouts still move on to the next server).
	 */
	opts.flags = ARES_FLAG_EDNS | ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES |
		     ARES_FLAG_NOCHECKRESP;
	opts.ednspsz = 1232;
	/* thousands of queries share one UDP socket: a burst of answers must not overflow
	 * the default receive buffer, or answers are dropped and retried as timeouts */
	opts.socket_receive_buffer_size = 4 << 20;
	rc = ares_init_options(&dc->ch, &opts, mask);
	if (rc != ARES_SUCCESS) {
		bsnprintf(err, errlen, "cannot start the resolver: %s", ares_strerror(rc));
		free(dc);
		return NULL;
	}
	if (servers && (rc = ares_set_servers_ports_csv(dc->ch, servers)) != ARES_SUCCESS) {
		bsnprintf(err, errlen, "resolver \"%s\": %s", servers, ares_strerror(rc));
		ares_destroy(dc->ch);
		free(dc);
		return NULL;
	}
	return dc;
}

void dns_client_free(struct dns_client *dc)
{
	if (!dc)
		return;
	if (dc->pace.answered + dc->pace.unanswered)
		log_debug("dns: %" PRIu64 " answers (%" PRIu64 " after a lost try), %" PRIu64
			  " unanswered, %" PRIu64 " asked again; window %u (%u to %u), %" PRIu64
			  " decreases, %" PRIu64 " waited for room", dc->pace.answered, dc->pace.lost,
			  dc->pace.unanswered, dc->pace.reasked, dc->pace.window, dc->pace.lowest,
			  dc->pace.highest, dc->pace.decreases, dc->pace.queued);
	dc->closing = true;
	loop_timer_cancel(dc->lp, dc->timer);
	dc->timer = NULL;
	ares_destroy(dc->ch);	/* callbacks run with ARES_EDESTRUCTION and only free */
	while (dc->queue) {
		struct dns_send *sd = dc->queue;

		dc->queue = sd->next;
		sd->cb(sd->arg, ARES_EDESTRUCTION, 0, NULL, 0);
		free(sd);
	}
	while (dc->early)
		finish(dc->early);	/* closing: freed without a callback */
	free(dc);
}

unsigned dns_pending(const struct dns_client *dc)
{
	return dc->pending;
}

const struct dns_pace *dns_client_pace(const struct dns_client *dc)
{
	return &dc->pace;
}

static void early_unlink(struct dns_query *q)
{
	struct dns_client *dc = q->dc;

	if (q->prev)
		q->prev->next = q->next;
	else if (dc->early == q)
		dc->early = q->next;
	if (q->next)
		q->next->prev = q->prev;
	q->prev = q->next = NULL;
}

static void finish(struct dns_query *q)
{
	struct dns_client *dc = q->dc;

	early_unlink(q);
	loop_timer_cancel(dc->lp, q->later);
	q->later = NULL;
	if (!dc->closing && q->fn) {
		switch (q->kind) {
		case Q_TXT:
			((dns_txt_fn)q->fn)(q->arg, &q->u.txt);
			txt_answer_free(&q->u.txt);
			break;
		case Q_MX:
			((dns_mx_fn)q->fn)(q->arg, &q->u.mx);
			break;
		case Q_ADDR:
			((dns_addr_fn)q->fn)(q->arg, &q->u.addr);
			break;
		}
	} else if (q->kind == Q_TXT) {
		txt_answer_free(&q->u.txt);
	}
	free(q->chase);
	free(q);
}

static void report_later(void *arg)
{
	struct dns_query *q = arg;

	q->later = NULL;
	finish(q);
}

/* The last answer of q is in: report it, or hold it while the asking call runs. */
static void answered(struct dns_query *q)
{
	q->dc->pending--;
	q->answered = true;
	if (!q->starting)
		finish(q);
}

/* The asking call returns: an answer that came inside it is reported from the loop. */
static struct dns_query *started(struct dns_query *q)
{
	struct dns_client *dc = q->dc;

	q->starting = false;
	if (q->answered) {
		q->next = dc->early;
		if (dc->early)
			dc->early->prev = q;
		dc->early = q;
		q->later = loop_timer_add(dc->lp, 0, report_later, q);
	}
	return q;
}

void dns_cancel(struct dns_client *dc, struct dns_query *q)
{
	(void)dc;
	if (!q)
		return;
	q->fn = NULL;
	if (q->answered)
		finish(q);	/* held for later: nothing of c-ares refers to it */
}

struct addr_part {
	struct dns_query *q;
	int family;
	struct chase *chase;
};

/*
 * An answer with no record of the type asked that follows CNAMEs to a name it says nothing
 * more of: a resolver that does not follow the chain itself (unbound's local data does
 * not) leaves that to the asker, as a sender's resolver would not. Ask for the last name,
 * and say CNAME loop when the chain comes back to a name already seen (a chain longer
 * than DNS_CNAME_HOPS is an error). Returns true when the question went out again; rc and
 * detail are then left as they are.
 */
static bool chase_cname(struct dns_client *dc, struct chase **cp, const unsigned char *abuf,
			int alen, int type, ares_callback cb, void *arg, enum dns_result *rc,
			char *detail, size_t len)
{
	char names[DNS_CNAME_HOPS + 2][HOST_LEN];
	bool looped;
	size_t n = dns_answer_cnames(abuf, alen, names, ARRAY_LEN(names), &looped);
	struct chase *c = *cp;

	if (n < 2 || (*rc != DNS_NODATA && *rc != DNS_CNAME_LOOP))
		return false;	/* no CNAME, or records found */
	if (!c) {
		c = *cp = xcalloc(1, sizeof(*c));
		strlcpy_s(c->names[0], names[0], HOST_LEN);
		c->n = 1;
	}
	for (size_t i = 1; i < n; i++) {
		bool seen = false;

		for (size_t k = 0; k < c->n && !seen; k++)
			seen = strcmp(c->names[k], names[i]) == 0;
		if (c->n < ARRAY_LEN(c->names))
			strlcpy_s(c->names[c->n++], names[i], HOST_LEN);
		if (seen) {
			*rc = DNS_CNAME_LOOP;
			dns_cname_chain_str((const char (*)[HOST_LEN])c->names, c->n, "CNAME loop",
					    detail, len);
			return false;
		}
	}
	if (c->n > DNS_CNAME_HOPS) {
		*rc = DNS_ERROR;
		dns_cname_chain_str((const char (*)[HOST_LEN])c->names, c->n,
				    "CNAME chain of more than 8 names", detail, len);
		return false;
	}
	ask(dc, c->names[c->n - 1], type, cb, arg);
	return true;
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_query *q = arg;

	(void)timeouts;
	if (status == ARES_EDESTRUCTION || q->dc->closing) {
		if (--q->waiting == 0)
			answered(q);
		return;
	}
	switch (q->kind) {
	case Q_TXT:
		if (status == ARES_SUCCESS) {
			dns_answer_txt(abuf, alen, &q->u.txt);
			if (q->fn && chase_cname(q->dc, &q->chase, abuf, alen, ns_t_txt, on_answer, q,
						 &q->u.txt.rc, q->u.txt.detail,
						 sizeof(q->u.txt.detail)))
				return;	/* asked again for the chain's end */
		} else {
			q->u.txt.rc = dns_answer_status(status, q->u.txt.detail,
							sizeof(q->u.txt.detail));
		}
		break;
	case Q_MX:
		if (status == ARES_SUCCESS) {
			dns_answer_mx(abuf, alen, &q->u.mx);
			if (q->fn && chase_cname(q->dc, &q->chase, abuf, alen, ns_t_mx, on_answer, q,
						 &q->u.mx.rc, q->u.mx.detail,
						 sizeof(q->u.mx.detail)))
				return;
		} else {
			q->u.mx.rc = dns_answer_status(status, q->u.mx.detail,
						       sizeof(q->u.mx.detail));
		}
		break;
	case Q_ADDR:
		break;
	}
	if (--q->waiting == 0)
		answered(q);
}

static void on_addr_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct addr_part *part = arg;
	struct dns_query *q = part->q;
	enum dns_result *rcp = part->family == AF_INET ? &q->u.addr.rc4 : &q->u.addr.rc6;

	(void)timeouts;
	if (status != ARES_EDESTRUCTION && !q->dc->closing) {
		if (status == ARES_SUCCESS) {
			char detail[128] = "";

			dns_answer_addr(part->family, abuf, alen, &q->u.addr);
			if (q->fn && chase_cname(q->dc, &part->chase, abuf, alen,
						 part->family == AF_INET ? ns_t_a : ns_t_aaaa,
						 on_addr_answer, part, rcp, detail, sizeof(detail)))
				return;
			if (detail[0])
				bsnprintf(q->u.addr.detail, sizeof(q->u.addr.detail), "%s: %s",
					  part->family == AF_INET ? "A" : "AAAA", detail);
		} else {
			char detail[128] = "";

			*rcp = dns_answer_status(status, detail, sizeof(detail));
			if (detail[0] && !q->u.addr.detail[0])
				bsnprintf(q->u.addr.detail, sizeof(q->u.addr.detail), "%s: %s",
					  part->family == AF_INET ? "A" : "AAAA", detail);
		}
	}
	free(part->chase);
	free(part);
	if (--q->waiting == 0)
		answered(q);
}

static struct dns_query *query_new(struct dns_client *dc, enum qkind kind, const char *name,
			       void *fn, void *arg)
{
	struct dns_query *q = xcalloc(1, sizeof(*q));

	q->dc = dc;
	q->kind = kind;
	q->fn = fn;
	q->arg = arg;
	q->waiting = 1;
	q->starting = true;
	strlcpy_s(q->name, name, sizeof(q->name));
	dc->pending++;
	return q;
}

struct dns_query *dns_query_txt(struct dns_client *dc, const char *name, dns_txt_fn fn,
				void *arg)
{
	struct dns_query *q = query_new(dc, Q_TXT, name, (void *)fn, arg);

	ask(dc, name, ns_t_txt, on_answer, q);
	arm(dc);
	return started(q);
}

struct dns_query *dns_query_mx(struct dns_client *dc, const char *name, dns_mx_fn fn,
			       void *arg)
{
	struct dns_query *q = query_new(dc, Q_MX, name, (void *)fn, arg);

	ask(dc, name, ns_t_mx, on_answer, q);
	arm(dc);
	return started(q);
}

struct dns_query *dns_query_addrs(struct dns_client *dc, const char *name, bool ipv6,
				  dns_addr_fn fn, void *arg)
{
	struct dns_query *q = query_new(dc, Q_ADDR, name, (void *)fn, arg);
	struct addr_part *p4 = xcalloc(1, sizeof(*p4)), *p6;

	q->waiting = ipv6 ? 2 : 1;
	q->u.addr.rc6 = DNS_NOT_ASKED;
	p4->q = q;
	p4->family = AF_INET;
	if (ipv6) {
		p6 = xcalloc(1, sizeof(*p6));
		p6->q = q;
		p6->family = AF_INET6;
		ask(dc, name, ns_t_aaaa, on_addr_answer, p6);
	}
	ask(dc, name, ns_t_a, on_addr_answer, p4);
	arm(dc);
	return started(q);
}

/* sweep: check domains on a caller's loop, a bounded window in flight, MX hosts shared. */
#include "sweep.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "lib/dynbuf.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#define HOST_CACHE_MAX 4096	/* finished MX hosts kept for other domains by default */
#define HOST_BUCKETS 1024
#define FD_RESERVE 64		/* stdio, the database and its journal, epoll, c-ares, libcurl */
#define FD_PER_DOMAIN 4		/* the policy fetch and a few STARTTLS probes at once */
#define HOST_DNS_RETRIES 2	/* a shared host's address lookup is asked again this often */
#define HOST_DNS_RETRY_MS 500	/* ... this long after it failed */

struct sweep;
struct job;
struct host;

struct probe_ref {
	struct host *h;
	size_t i;
};

/* A domain waiting for one MX host's facts. */
struct waiter {
	struct waiter *prev, *next;	/* in the host's list */
	struct host *h;
	struct job *job;
	size_t mx;	/* index in the job's df.mx */
};

/* One MX host name, shared by every domain that lists it. */
struct host {
	char name[HOST_LEN];
	struct host *hnext;		/* hash chain */
	struct host *dprev, *dnext;	/* finished hosts, oldest first */
	struct sweep *sw;
	enum { HOST_RESOLVING, HOST_PROBING, HOST_DONE } state;
	uint64_t done_at;		/* loop ms when it finished */
	void *query;			/* A/AAAA while resolving */
	struct loop_timer *retry;	/* the next A/AAAA lookup, after one without answer */
	unsigned dns_retries;		/* lookups asked again so far */
	struct addr_answer addrs;
	struct smtp_facts *smtp;
	void **probes;			/* STARTTLS probes while probing */
	struct probe_ref *refs;		/* callback arguments of the probes */
	size_t n_smtp;
	unsigned probes_left;
	bool local_fault;		/* a probe could not run here: never reused */
	struct waiter *waiters;
};

/* One domain in flight, or finished and waiting to be handed back. */
struct job {
	struct sweep *sw;
	struct job *prev, *next;	/* in sw->active, then sw->ready */
	struct domain_facts df;
	struct sweep_domain_opts d;
	sweep_done_fn fn;
	void *arg;
	unsigned pending;		/* outstanding parts plus holds */
	void *q_sts, *q_tlsrpt, *q_mx, *q_paddrs;	/* DNS questions outstanding */
	void *req;			/* the policy fetch */
	struct waiter **waits;		/* per MX: non-NULL while its host is awaited */
	struct loop_timer *deadline;
	bool done;
};

/* A domain added beyond the window: its name and what to do with it, nothing more. */
struct queued {
	struct queued *next;
	struct sweep_domain_opts d;
	sweep_done_fn fn;
	void *arg;
	char name[];
};

struct job_list {
	struct job *head, *tail;
};

struct sweep {
	struct loop *lp;
	struct clients *cl;
	struct sweep_opts o;
	struct host *buckets[HOST_BUCKETS];
	struct host *done_head, *done_tail;
	size_t n_done;
	struct job_list active;		/* started */
	struct job_list ready;		/* finished, to be handed back from the pump */
	struct queued *q_head, *q_tail;
	size_t n_queued;
	unsigned in_flight;		/* active + ready */
	sweep_room_fn on_room;
	void *room_arg;
	struct loop_timer *pump;
	bool pumping;
	bool free_after_pump;		/* sweep_free from a callback */
	struct sweep_stats stats;
};

static void job_release(struct job *j);
static void host_free(struct host *h);

/* ---- lists ----------------------------------------------------------------------------- */

static void list_push(struct job_list *l, struct job *j)
{
	j->next = NULL;
	j->prev = l->tail;
	if (l->tail)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
}

static void list_unlink(struct job_list *l, struct job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		l->head = j->next;
	if (j->next)
		j->next->prev = j->prev;
	else
		l->tail = j->prev;
	j->prev = j->next = NULL;
}

static unsigned window(const struct sweep *sw)
{
	return sw->o.concurrency ? sw->o.concurrency : 1;
}

static void pump(void *arg);

/* Hand back, start and feed from the loop, never from inside a caller's call. */
static void schedule_pump(struct sweep *sw)
{
	if (!sw->pump && !sw->pumping)
		sw->pump = loop_timer_add(sw->lp, 0, pump, sw);
}

/* ---- shared MX hosts ------------------------------------------------------------------- */

static unsigned host_hash(const char *s)
{
	unsigned h = 5381;

	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h % HOST_BUCKETS;
}

static struct host *host_find(struct sweep *sw, const char *name)
{
	struct host *h;

	for (h = sw->buckets[host_hash(name)]; h; h = h->hnext)
		if (strcmp(h->name, name) == 0)
			return h;
	return NULL;
}

static bool host_expired(const struct sweep *sw, const struct host *h)
{
	return sw->o.host_ttl_ms && loop_now(sw->lp) - h->done_at >= sw->o.host_ttl_ms;
}

static void done_unlink(struct sweep *sw, struct host *h)
{
	if (h->dprev)
		h->dprev->dnext = h->dnext;
	else
		sw->done_head = h->dnext;
	if (h->dnext)
		h->dnext->dprev = h->dprev;
	else
		sw->done_tail = h->dprev;
	h->dprev = h->dnext = NULL;
	sw->n_done--;
}

/* Keep a finished host for others; drop what expired or passes the cache's size. */
static void done_push(struct sweep *sw, struct host *h)
{
	size_t max = sw->o.host_cache_max ? sw->o.host_cache_max : HOST_CACHE_MAX;

	h->dnext = NULL;
	h->dprev = sw->done_tail;
	if (sw->done_tail)
		sw->done_tail->dnext = h;
	else
		sw->done_head = h;
	sw->done_tail = h;
	sw->n_done++;
	while (sw->done_head && (sw->n_done > max || host_expired(sw, sw->done_head)))
		host_free(sw->done_head);
}

/* Forget a host: its DNS question and probes end without callbacks; no one may wait on it. */
static void host_free(struct host *h)
{
	struct sweep *sw = h->sw;
	const struct probe_ops *ops = sw->cl->ops;
	struct host **pp = &sw->buckets[host_hash(h->name)];

	while (*pp && *pp != h)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = h->hnext;
	if (h->state == HOST_DONE)
		done_unlink(sw, h);
	if (h->query)
		ops->dns_cancel(sw->cl, h->query);
	loop_timer_cancel(sw->lp, h->retry);
	for (size_t i = 0; h->probes && i < h->n_smtp; i++)
		if (h->probes[i])
			ops->smtp_cancel(sw->cl, h->probes[i]);
	free(h->probes);
	free(h->refs);
	free(h->smtp);
	free(h);
}

/* Copy a finished host's facts into one domain's MX entry. */
static void host_copy(const struct host *h, struct job *j, size_t mx)
{
	struct mx_host_facts *m = &j->df.mx[mx];

	m->addrs = h->addrs;
	m->n_smtp = h->n_smtp;
	if (h->n_smtp) {
		m->smtp = xmalloc(h->n_smtp * sizeof(*m->smtp));
		memcpy(m->smtp, h->smtp, h->n_smtp * sizeof(*m->smtp));
	}
}

static void waiter_unlink(struct waiter *w)
{
	struct host *h = w->h;

	if (w->prev)
		w->prev->next = w->next;
	else
		h->waiters = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->job->waits[w->mx] = NULL;
}

static void host_finish(struct host *h)
{
	struct sweep *sw = h->sw;

	h->state = HOST_DONE;
	h->done_at = loop_now(sw->lp);
	free(h->probes);
	h->probes = NULL;
	free(h->refs);
	h->refs = NULL;
	/* in a list before anyone is handed the facts, so a freed host is unlinked */
	done_push(sw, h);
	while (h->waiters) {
		struct waiter *w = h->waiters;
		struct job *j = w->job;

		waiter_unlink(w);
		host_copy(h, j, w->mx);
		free(w);
		job_release(j);	/* never calls back: a finished job waits for the pump */
	}
	if (h->local_fault)
		host_free(h);	/* our own descriptor shortage is no fact to share */
}

static void on_smtp_done(void *arg, const struct smtp_facts *res)
{
	struct probe_ref *ref = arg;
	struct host *h = ref->h;

	h->smtp[ref->i] = *res;
	h->probes[ref->i] = NULL;
	if (res->rc == SMTP_LOCAL)
		h->local_fault = true;
	if (--h->probes_left == 0)
		host_finish(h);
}

static void on_host_addrs(void *arg, const struct addr_answer *ans);

/* Ask for the host's addresses (again). */
static void host_resolve(struct host *h)
{
	struct sweep *sw = h->sw;

	h->query = sw->cl->ops->addrs(sw->cl, h->name, sw->o.ipv6, on_host_addrs, h);
}

static void on_host_retry(void *arg)
{
	struct host *h = arg;

	h->retry = NULL;
	host_resolve(h);
}

/*
 * No address and no definite answer: one lost answer would turn every domain that lists
 * the host UNKNOWN, so the lookup is asked again (a few times, after a short pause).
 */
static bool host_retry_lookup(struct host *h, const struct addr_answer *ans)
{
	struct sweep *sw = h->sw;

	if (ans->n || (dns_result_definite(ans->rc4) &&
		       (ans->rc6 == DNS_NOT_ASKED || dns_result_definite(ans->rc6))))
		return false;
	if (ans->rc4 == DNS_CNAME_LOOP || ans->rc6 == DNS_CNAME_LOOP)
		return false;	/* an answer, if a broken one: asking again changes nothing */
	if (h->dns_retries >= sw->o.host_dns_retries)
		return false;
	h->dns_retries++;
	sw->stats.mx_dns_retries++;
	log_debug("%s: no answer for its addresses (%s), asking again in %u ms (%u of %u)",
		  h->name, ans->detail[0] ? ans->detail : dns_result_str(ans->rc4),
		  sw->o.host_dns_retry_ms, h->dns_retries, sw->o.host_dns_retries);
	h->retry = loop_timer_add(sw->lp, sw->o.host_dns_retry_ms, on_host_retry, h);
	return true;
}

static void on_host_addrs(void *arg, const struct addr_answer *ans)
{
	struct host *h = arg;
	struct sweep *sw = h->sw;
	time_t now = loop_wall(sw->lp);

	h->query = NULL;
	if (host_retry_lookup(h, ans))
		return;
	h->addrs = *ans;
	if (!ans->n) {
		host_finish(h);
		return;
	}
	h->state = HOST_PROBING;
	h->n_smtp = ans->n;
	h->smtp = xcalloc(ans->n, sizeof(*h->smtp));
	h->probes = xcalloc(ans->n, sizeof(*h->probes));
	h->refs = xcalloc(ans->n, sizeof(*h->refs));
	h->probes_left = (unsigned)ans->n;
	for (size_t i = 0; i < ans->n; i++) {
		h->refs[i].h = h;
		h->refs[i].i = i;
		sw->stats.smtp_probes++;
		h->probes[i] = sw->cl->ops->smtp(sw->cl, h->name, ans->v[i].family, ans->v[i].ip,
						 now, on_smtp_done, &h->refs[i]);
	}
}

/* The shared entry for an MX host of job j; resolution and probes start on first sight. */
static void host_wait(struct sweep *sw, struct job *j, size_t mx)
{
	const char *name = j->df.mx[mx].name;
	struct host *h = host_find(sw, name);
	struct waiter *w;

	if (h && h->state == HOST_DONE && (j->d.fresh || host_expired(sw, h))) {
		host_free(h);	/* nobody waits on a finished host */
		h = NULL;
	}
	if (h && h->state == HOST_DONE) {
		sw->stats.mx_cache_hits++;
		host_copy(h, j, mx);
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->job = j;
	w->mx = mx;
	j->waits[mx] = w;
	j->pending++;
	if (h) {
		sw->stats.mx_cache_hits++;	/* joins a probe in flight */
	} else {
		unsigned b = host_hash(name);

		h = xcalloc(1, sizeof(*h));
		strlcpy_s(h->name, name, sizeof(h->name));
		h->sw = sw;
		h->state = HOST_RESOLVING;
		h->hnext = sw->buckets[b];
		sw->buckets[b] = h;
		sw->stats.mx_hosts_probed++;
		host_resolve(h);
	}
	w->h = h;
	w->next = h->waiters;
	if (h->waiters)
		h->waiters->prev = w;
	h->waiters = w;
}

/* A domain stops waiting for a host; a host nobody waits for any more is abandoned. */
static void waiter_drop(struct waiter *w)
{
	struct host *h = w->h;

	waiter_unlink(w);
	free(w);
	if (!h->waiters && h->state != HOST_DONE)
		host_free(h);
}

/* ---- one domain ------------------------------------------------------------------------ */

static void on_sts_txt(void *arg, struct txt_answer *ans)
{
	struct job *j = arg;

	j->q_sts = NULL;
	j->df.sts_txt = *ans;
	ans->n = 0;	/* the records now belong to the facts */
	job_release(j);
}

static void on_tlsrpt_txt(void *arg, struct txt_answer *ans)
{
	struct job *j = arg;

	j->q_tlsrpt = NULL;
	j->df.tlsrpt_txt = *ans;
	ans->n = 0;
	job_release(j);
}

static void on_fetch(void *arg, struct policy_fetch *res)
{
	struct job *j = arg;

	j->req = NULL;
	j->df.fetch = *res;
	res->body = NULL;	/* taken */
	job_release(j);
}

static void on_policy_addrs(void *arg, const struct addr_answer *ans)
{
	struct job *j = arg;
	struct sweep *sw = j->sw;
	struct policy_fetch *pf = &j->df.fetch;

	j->q_paddrs = NULL;
	j->df.policy_addrs = *ans;
	bsnprintf(pf->url, sizeof(pf->url), "https://mta-sts.%s/.well-known/mta-sts.txt",
		  j->df.domain);
	if (ans->n) {
		j->req = sw->cl->ops->fetch(sw->cl, j->df.domain, ans, sw->o.policy_ms,
					    j->df.checked_at, on_fetch, j);
		if (j->req) {
			j->pending++;
		} else {
			pf->rc = FETCH_PROTOCOL;
			bsnprintf(pf->error, sizeof(pf->error), "cannot start the transfer");
		}
	} else {
		pf->rc = FETCH_DNS;
		if (dns_result_definite(ans->rc4) && (!sw->o.ipv6 || dns_result_definite(ans->rc6)))
			bsnprintf(pf->error, sizeof(pf->error), "mta-sts.%s has no A or AAAA record",
				  j->df.domain);
		else
			bsnprintf(pf->error, sizeof(pf->error), "cannot resolve mta-sts.%s: %s",
				  j->df.domain, ans->detail);
	}
	job_release(j);
}

static void on_mx(void *arg, const struct mx_answer *ans)
{
	struct job *j = arg;
	struct domain_facts *df = &j->df;

	j->q_mx = NULL;
	df->mx_rc = ans->rc;
	strlcpy_s(df->mx_detail, ans->detail, sizeof(df->mx_detail));
	df->mx_truncated = ans->truncated;
	if (ans->rc == DNS_OK && ans->n == 1 && ans->v[0].host[0] == '\0') {
		df->mx_null = true;	/* RFC 7505: "0 ." */
	} else if (ans->rc == DNS_OK && ans->n) {
		size_t k = 0;

		df->mx = xcalloc(ans->n, sizeof(*df->mx));
		j->waits = xcalloc(ans->n, sizeof(*j->waits));
		for (size_t i = 0; i < ans->n; i++) {
			if (!ans->v[i].host[0])
				continue;	/* a null MX among others: ignored, noted by the judge */
			strlcpy_s(df->mx[k].name, ans->v[i].host, sizeof(df->mx[k].name));
			df->mx[k].preference = ans->v[i].preference;
			k++;
		}
		df->n_mx = k;
		df->mx_total = ans->n_total - (ans->n - k);	/* null MX entries are no host */
		for (size_t i = 0; i < k; i++) {
			df->mx[i].addrs.rc4 = DNS_NOT_ASKED;
			host_wait(j->sw, j, i);
		}
	}
	job_release(j);	/* the question's own count, held while the hosts were asked for */
}

/* Finished: out of the active list, handed back from the pump. */
static void job_done(struct job *j)
{
	struct sweep *sw = j->sw;

	j->done = true;
	loop_timer_cancel(sw->lp, j->deadline);
	j->deadline = NULL;
	list_unlink(&sw->active, j);
	list_push(&sw->ready, j);
	schedule_pump(sw);
}

static void job_release(struct job *j)
{
	if (--j->pending == 0 && !j->done)
		job_done(j);
}

/* What still runs, in words, for the deadline's finding. */
static void describe_pending(struct job *j)
{
	struct dynbuf sb;

	dynbuf_init(&sb, sizeof(j->df.pending) - 1);
	if (j->q_sts)
		dynbuf_printf(&sb, "%sDNS TXT _mta-sts", sb.len ? ", " : "");
	if (j->q_tlsrpt)
		dynbuf_printf(&sb, "%sDNS TXT _smtp._tls", sb.len ? ", " : "");
	if (j->q_mx)
		dynbuf_printf(&sb, "%sDNS MX", sb.len ? ", " : "");
	if (j->q_paddrs)
		dynbuf_printf(&sb, "%sDNS A/AAAA mta-sts", sb.len ? ", " : "");
	if (j->req)
		dynbuf_printf(&sb, "%spolicy fetch", sb.len ? ", " : "");
	for (size_t i = 0; j->waits && i < j->df.n_mx; i++)
		if (j->waits[i])
			dynbuf_printf(&sb, "%s%s %s", sb.len ? ", " : "",
				      j->waits[i]->h->state == HOST_RESOLVING ? "DNS A/AAAA MX" :
				      "STARTTLS MX", j->df.mx[i].name);
	strlcpy_s(j->df.pending, sb.buf ? sb.buf : "", sizeof(j->df.pending));
	dynbuf_free(&sb);
}

/* Stop everything this domain asked for; shared hosts go on for the others. */
static void job_detach(struct job *j)
{
	struct sweep *sw = j->sw;
	const struct probe_ops *ops = sw->cl->ops;
	void **qs[] = { &j->q_sts, &j->q_tlsrpt, &j->q_mx, &j->q_paddrs };

	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		if (*qs[i]) {
			ops->dns_cancel(sw->cl, *qs[i]);
			*qs[i] = NULL;
		}
	if (j->req) {
		ops->fetch_cancel(sw->cl, j->req);
		j->req = NULL;
	}
	for (size_t i = 0; j->waits && i < j->df.n_mx; i++)
		if (j->waits[i])
			waiter_drop(j->waits[i]);
	loop_timer_cancel(sw->lp, j->deadline);
	j->deadline = NULL;
	j->pending = 0;
}

static void on_deadline(void *arg)
{
	struct job *j = arg;

	j->deadline = NULL;
	describe_pending(j);
	/* the hosts still awaited have no facts: say so, never leave them as "not asked" */
	for (size_t i = 0; j->waits && i < j->df.n_mx; i++)
		if (j->waits[i])
			j->df.mx[i].pending = j->waits[i]->h->state == HOST_RESOLVING ?
					      MX_PENDING_DNS : MX_PENDING_STARTTLS;
	j->df.deadline_hit = true;
	j->sw->stats.deadlines++;
	job_detach(j);
	job_done(j);
}

static void job_free(struct job *j)
{
	domain_facts_free(&j->df);
	free(j->waits);
	free(j);
}

static void job_start(struct sweep *sw, struct queued *q)
{
	const struct sweep_opts *o = &sw->o;
	const struct probe_ops *ops = sw->cl->ops;
	struct job *j = xcalloc(1, sizeof(*j));
	char qname[HOST_LEN + 16];

	j->sw = sw;
	j->d = q->d;
	j->fn = q->fn;
	j->arg = q->arg;
	domain_facts_init(&j->df, q->name);
	j->df.checked_at = loop_wall(sw->lp);
	j->df.probe_policy = o->probe_policy;
	j->df.probe_mx = o->probe_mx;
	list_push(&sw->active, j);
	sw->in_flight++;
	if (sw->in_flight > sw->stats.peak_in_flight)
		sw->stats.peak_in_flight = sw->in_flight;
	if (j->d.deadline_ms)
		j->deadline = loop_timer_add(sw->lp, j->d.deadline_ms, on_deadline, j);
	j->pending = 1;	/* held while the questions go out */
	if (o->probe_policy) {
		bsnprintf(qname, sizeof(qname), "_mta-sts.%s", j->df.domain);
		j->pending += 2;
		j->q_sts = ops->txt(sw->cl, qname, on_sts_txt, j);
		bsnprintf(qname, sizeof(qname), "mta-sts.%s", j->df.domain);
		j->q_paddrs = ops->addrs(sw->cl, qname, true, on_policy_addrs, j);
	}
	if (o->probe_tlsrpt) {
		bsnprintf(qname, sizeof(qname), "_smtp._tls.%s", j->df.domain);
		j->pending++;
		j->q_tlsrpt = ops->txt(sw->cl, qname, on_tlsrpt_txt, j);
	}
	if (o->probe_mx) {
		j->pending++;
		j->q_mx = ops->mx(sw->cl, j->df.domain, on_mx, j);
	}
	job_release(j);
}

/* ---- the window ------------------------------------------------------------------------ */

static struct queued *queue_pop(struct sweep *sw)
{
	struct queued *q = sw->q_head;

	sw->q_head = q->next;
	if (!sw->q_head)
		sw->q_tail = NULL;
	sw->n_queued--;
	return q;
}

static void sweep_release(struct sweep *sw)
{
	sweep_shutdown(sw);
	for (size_t b = 0; b < HOST_BUCKETS; b++)
		while (sw->buckets[b])
			host_free(sw->buckets[b]);
	loop_timer_cancel(sw->lp, sw->pump);
	free(sw);
}

/* Hand back finished domains, start waiting ones, ask the feeder for more. */
static void pump(void *arg)
{
	struct sweep *sw = arg;
	bool fed = false;

	sw->pump = NULL;
	sw->pumping = true;
	while (!sw->free_after_pump) {
		if (sw->ready.head) {
			struct job *j = sw->ready.head;

			list_unlink(&sw->ready, j);
			sw->in_flight--;
			j->fn(j->arg, &j->df);
			job_free(j);
		} else if (sw->q_head && sw->in_flight < window(sw)) {
			struct queued *q = queue_pop(sw);

			job_start(sw, q);
			free(q);
		} else if (!fed && sw->on_room && !sw->q_head && sw->in_flight < window(sw)) {
			fed = true;
			sw->on_room(sw->room_arg, sw, window(sw) - sw->in_flight);
		} else {
			break;
		}
	}
	sw->pumping = false;
	if (sw->free_after_pump)
		sweep_release(sw);
}

/* ---- the interface --------------------------------------------------------------------- */

void sweep_opts_from_config(struct sweep_opts *o, const struct config *cfg)
{
	memset(o, 0, sizeof(*o));
	o->concurrency = cfg->concurrency;
	o->ipv6 = cfg->ipv6;
	o->probe_policy = true;
	o->probe_mx = true;
	o->probe_tlsrpt = true;
	o->policy_ms = cfg->to.policy_ms;
	o->host_ttl_ms = 0;
	o->host_dns_retries = HOST_DNS_RETRIES;
	o->host_dns_retry_ms = HOST_DNS_RETRY_MS;
}

struct sweep *sweep_new(struct loop *lp, struct clients *c, const struct sweep_opts *o)
{
	struct sweep *sw = xcalloc(1, sizeof(*sw));

	sw->lp = lp;
	sw->cl = c;
	sw->o = *o;
	return sw;
}

void sweep_add(struct sweep *sw, const char *domain, const struct sweep_domain_opts *d,
	       sweep_done_fn fn, void *arg)
{
	size_t len = strnlen(domain, HOST_LEN - 1);
	struct queued *q = xmalloc(sizeof(*q) + len + 1);

	q->next = NULL;
	if (d)
		q->d = *d;
	else
		memset(&q->d, 0, sizeof(q->d));
	q->fn = fn;
	q->arg = arg;
	memcpy(q->name, domain, len);
	q->name[len] = '\0';
	if (sw->q_tail)
		sw->q_tail->next = q;
	else
		sw->q_head = q;
	sw->q_tail = q;
	sw->n_queued++;
	sw->stats.domains++;
	schedule_pump(sw);
}

void sweep_on_room(struct sweep *sw, sweep_room_fn fn, void *arg)
{
	sw->on_room = fn;
	sw->room_arg = arg;
	if (fn)
		schedule_pump(sw);
}

unsigned sweep_concurrency(const struct sweep *sw)
{
	return window(sw);
}

unsigned sweep_in_flight(const struct sweep *sw)
{
	return sw->in_flight;
}

size_t sweep_queued(const struct sweep *sw)
{
	return sw->n_queued;
}

bool sweep_idle(const struct sweep *sw)
{
	return !sw->in_flight && !sw->n_queued;
}

const struct sweep_stats *sweep_stats(const struct sweep *sw)
{
	return &sw->stats;
}

void sweep_shutdown(struct sweep *sw)
{
	while (sw->active.head) {
		struct job *j = sw->active.head;

		job_detach(j);	/* abandons the hosts only this domain waited for */
		list_unlink(&sw->active, j);
		job_free(j);
	}
	while (sw->ready.head) {
		struct job *j = sw->ready.head;

		list_unlink(&sw->ready, j);
		job_free(j);
	}
	sw->in_flight = 0;
	while (sw->q_head)
		free(queue_pop(sw));
}

void sweep_free(struct sweep *sw)
{
	if (!sw)
		return;
	if (sw->pumping) {
		/* from a callback: end the work now, free when the pump returns */
		sweep_shutdown(sw);
		sw->on_room = NULL;
		sw->free_after_pump = true;
		return;
	}
	sweep_release(sw);
}

unsigned sweep_fit_concurrency(unsigned wanted, uint64_t fd_limit)
{
	uint64_t fit;

	if (fd_limit <= FD_RESERVE + FD_PER_DOMAIN)
		return 1;
	fit = (fd_limit - FD_RESERVE) / FD_PER_DOMAIN;
	if (!wanted)
		wanted = 1;
	return fit < wanted ? (unsigned)fit : wanted;
}

unsigned sweep_concurrency_for_limit(unsigned wanted)
{
	struct rlimit rl;
	unsigned fit;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return wanted;
	fit = sweep_fit_concurrency(wanted, (uint64_t)rl.rlim_cur);
	if (fit < wanted)
		log_warning("concurrency lowered from %u to %u: this process may open %llu files "
			    "(RLIMIT_NOFILE) and each domain in flight needs about %d; raise the "
			    "limit (ulimit -n, or LimitNOFILE= in the systemd unit) to check more "
			    "at once", wanted, fit, (unsigned long long)rl.rlim_cur, FD_PER_DOMAIN);
	return fit;
}

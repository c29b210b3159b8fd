/* sweep: probe many domains on one loop with bounded concurrency; results in input order. */
#include "sweep.h"

#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "checks/dns_probe.h"
#include "checks/dnsname.h"
#include "checks/https_probe.h"
#include "checks/smtp_probe.h"
#include "checks/tlscert.h"
#include "lib/dynbuf.h"
#include "lib/loop.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#define HOST_CACHE_MAX 4096	/* finished MX hosts kept for other domains of the sweep */
#define HOST_BUCKETS 1024

struct sweep;
struct job;
struct host;

struct probe_ref {
	struct host *h;
	size_t i;
};

/* One MX host name, shared by every domain of the sweep that lists it. */
struct host {
	char name[HOST_LEN];
	struct host *hnext;		/* hash chain */
	struct host *lprev, *lnext;	/* LRU of finished hosts nobody waits for */
	struct sweep *sw;
	enum { HOST_RESOLVING, HOST_PROBING, HOST_DONE } state;
	struct addr_answer addrs;
	struct smtp_facts *smtp;
	struct smtp_probe **probes;
	struct probe_ref *refs;		/* callback arguments of the probes */
	size_t n_smtp;
	unsigned probes_left;
	struct waiter *waiters;
};

struct waiter {
	struct waiter *next;
	struct job *job;
	size_t mx;	/* index in the job's df.mx */
};

struct job {
	struct sweep *sw;
	size_t idx;
	bool started, done;
	unsigned pending;	/* outstanding parts plus holds */
	struct domain_facts df;
	struct https_req *req;
	bool wait_sts, wait_tlsrpt, wait_mx, wait_addrs, wait_fetch;
	unsigned wait_hosts;
};

struct sweep {
	const struct sweep_opts *o;
	struct loop *lp;
	struct dns_client *dns;
	struct https_client *https;
	struct smtp_client *smtp;
	struct tlscert_store *store;
	struct host *buckets[HOST_BUCKETS];
	struct host *lru_head, *lru_tail;
	size_t n_lru;
	struct job *ring;	/* window of jobs, indexed by idx % window */
	size_t window;
	size_t n, next_start, next_out;
	size_t active;
	sweep_name_fn name;
	void *name_arg;
	sweep_result_fn fn;
	void *fn_arg;
	bool stop;
	bool deadline_hit;
	struct loop_timer *deadline;
	struct sweep_stats *stats;
};

static void job_release(struct job *j);

void sweep_opts_from_config(struct sweep_opts *o, const struct config *cfg)
{
	memset(o, 0, sizeof(*o));
	o->resolver = cfg->resolver;
	o->ca_file = cfg->ca_file;
	o->ehlo_name = cfg->ehlo_name;
	o->to = cfg->to;
	o->concurrency = cfg->concurrency;
	o->ipv6 = cfg->ipv6;
	o->probe_policy = true;
	o->probe_mx = true;
	o->probe_tlsrpt = true;
	o->smtp_port = 25;
}

static unsigned host_hash(const char *s)
{
	unsigned h = 5381;

	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h % HOST_BUCKETS;
}

static void lru_unlink(struct sweep *sw, struct host *h)
{
	if (h->lprev)
		h->lprev->lnext = h->lnext;
	else if (sw->lru_head == h)
		sw->lru_head = h->lnext;
	else
		return;	/* not in the list */
	if (h->lnext)
		h->lnext->lprev = h->lprev;
	else
		sw->lru_tail = h->lprev;
	h->lprev = h->lnext = NULL;
	sw->n_lru--;
}

static void host_free(struct host *h)
{
	struct sweep *sw = h->sw;
	struct host **pp = &sw->buckets[host_hash(h->name)];

	while (*pp && *pp != h)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = h->hnext;
	lru_unlink(sw, h);
	for (size_t i = 0; h->probes && i < h->n_smtp; i++)
		smtp_probe_cancel(h->probes[i]);
	while (h->waiters) {
		struct waiter *w = h->waiters;

		h->waiters = w->next;
		free(w);
	}
	free(h->probes);
	free(h->refs);
	free(h->smtp);
	free(h);
}

static void lru_push(struct sweep *sw, struct host *h)
{
	h->lprev = NULL;
	h->lnext = sw->lru_head;
	if (sw->lru_head)
		sw->lru_head->lprev = h;
	sw->lru_head = h;
	if (!sw->lru_tail)
		sw->lru_tail = h;
	sw->n_lru++;
	while (sw->n_lru > HOST_CACHE_MAX)
		host_free(sw->lru_tail);
}

/* Hand a finished host's facts to one waiting domain. */
static void host_deliver(struct host *h, struct waiter *w)
{
	struct job *j = w->job;
	struct mx_host_facts *m = &j->df.mx[w->mx];

	m->addrs = h->addrs;
	m->n_smtp = h->n_smtp;
	if (h->n_smtp) {
		m->smtp = xmalloc(h->n_smtp * sizeof(*m->smtp));
		memcpy(m->smtp, h->smtp, h->n_smtp * sizeof(*m->smtp));
	}
	j->wait_hosts--;
	job_release(j);
}

static void host_finish(struct host *h)
{
	h->state = HOST_DONE;
	free(h->probes);
	h->probes = NULL;
	free(h->refs);
	h->refs = NULL;
	while (h->waiters) {
		struct waiter *w = h->waiters;

		h->waiters = w->next;
		host_deliver(h, w);
		free(w);
	}
	lru_push(h->sw, h);
}

static void on_smtp_done(void *arg, const struct smtp_facts *res)
{
	struct probe_ref *ref = arg;
	struct host *h = ref->h;

	h->smtp[ref->i] = *res;
	h->probes[ref->i] = NULL;
	if (--h->probes_left == 0)
		host_finish(h);
}

static void on_host_addrs(void *arg, const struct addr_answer *ans)
{
	struct host *h = arg;
	struct sweep *sw = h->sw;

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
		sw->stats->smtp_probes++;
		h->probes[i] = smtp_probe_start(sw->smtp, h->name, ans->v[i].family, ans->v[i].ip,
						time(NULL), on_smtp_done, &h->refs[i]);
	}
}

/* The shared entry for an MX host; resolution and probes start on first sight. */
static void host_wait(struct sweep *sw, struct job *j, size_t mx)
{
	const char *name = j->df.mx[mx].name;
	unsigned b = host_hash(name);
	struct host *h;
	struct waiter *w;

	for (h = sw->buckets[b]; h; h = h->hnext)
		if (strcmp(h->name, name) == 0)
			break;
	j->wait_hosts++;
	j->pending++;
	if (h && h->state == HOST_DONE) {
		struct waiter tmp = { .job = j, .mx = mx };

		sw->stats->mx_cache_hits++;
		lru_unlink(sw, h);
		lru_push(sw, h);
		host_deliver(h, &tmp);
		return;
	}
	if (h)
		sw->stats->mx_cache_hits++;
	w = xmalloc(sizeof(*w));
	w->job = j;
	w->mx = mx;
	if (!h) {
		h = xcalloc(1, sizeof(*h));
		strlcpy_s(h->name, name, sizeof(h->name));
		h->sw = sw;
		h->state = HOST_RESOLVING;
		h->hnext = sw->buckets[b];
		sw->buckets[b] = h;
		w->next = NULL;
		h->waiters = w;
		sw->stats->mx_hosts_probed++;
		dns_query_addrs(sw->dns, h->name, sw->o->ipv6, on_host_addrs, h);
		return;
	}
	w->next = h->waiters;
	h->waiters = w;
}

static void on_sts_txt(void *arg, struct txt_answer *ans)
{
	struct job *j = arg;

	j->df.sts_txt = *ans;
	ans->n = 0;	/* the records now belong to the facts */
	j->wait_sts = false;
	job_release(j);
}

static void on_tlsrpt_txt(void *arg, struct txt_answer *ans)
{
	struct job *j = arg;

	j->df.tlsrpt_txt = *ans;
	ans->n = 0;
	j->wait_tlsrpt = false;
	job_release(j);
}

static void on_fetch(void *arg, struct policy_fetch *res)
{
	struct job *j = arg;

	j->df.fetch = *res;
	res->body = NULL;	/* taken */
	j->req = NULL;
	j->wait_fetch = false;
	job_release(j);
}

static void on_policy_addrs(void *arg, const struct addr_answer *ans)
{
	struct job *j = arg;
	struct sweep *sw = j->sw;
	struct policy_fetch *pf = &j->df.fetch;

	j->df.policy_addrs = *ans;
	j->wait_addrs = false;
	bsnprintf(pf->url, sizeof(pf->url), "https://mta-sts.%s/.well-known/mta-sts.txt",
		  j->df.domain);
	if (ans->n) {
		j->pending++;
		j->wait_fetch = true;
		j->req = https_fetch_policy(sw->https, j->df.domain, ans, sw->o->to.policy_ms,
					    j->df.checked_at, on_fetch, j);
		if (!j->req) {
			pf->rc = FETCH_PROTOCOL;
			bsnprintf(pf->error, sizeof(pf->error), "cannot start the transfer");
			j->wait_fetch = false;
			j->pending--;
		}
	} else {
		pf->rc = FETCH_DNS;
		if (dns_result_definite(ans->rc4) && (!sw->o->ipv6 || dns_result_definite(ans->rc6)))
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

	df->mx_rc = ans->rc;
	strlcpy_s(df->mx_detail, ans->detail, sizeof(df->mx_detail));
	df->mx_truncated = ans->truncated;
	j->wait_mx = false;
	if (ans->rc == DNS_OK && ans->n == 1 && ans->v[0].host[0] == '\0') {
		df->mx_null = true;	/* RFC 7505: "0 ." */
	} else if (ans->rc == DNS_OK) {
		size_t k = 0;

		df->mx = xcalloc(ans->n, sizeof(*df->mx));
		for (size_t i = 0; i < ans->n; i++) {
			if (!ans->v[i].host[0])
				continue;	/* a null MX among others: ignored, noted by the judge */
			strlcpy_s(df->mx[k].name, ans->v[i].host, sizeof(df->mx[k].name));
			df->mx[k].preference = ans->v[i].preference;
			k++;
		}
		df->n_mx = k;
		for (size_t i = 0; i < k; i++) {
			df->mx[i].addrs.rc4 = DNS_NOT_ASKED;
			host_wait(j->sw, j, i);
		}
	}
	job_release(j);
}

static void job_deliver_ready(struct sweep *sw);

static void job_done(struct job *j)
{
	struct sweep *sw = j->sw;

	j->done = true;
	sw->active--;
	job_deliver_ready(sw);
}

static void job_release(struct job *j)
{
	if (--j->pending == 0 && !j->done)
		job_done(j);
}

static void job_start(struct sweep *sw, struct job *j, size_t idx)
{
	const struct sweep_opts *o = sw->o;
	char qname[HOST_LEN + 16];

	memset(j, 0, sizeof(*j));
	j->sw = sw;
	j->idx = idx;
	j->started = true;
	domain_facts_init(&j->df, sw->name(sw->name_arg, idx));
	j->df.checked_at = time(NULL);
	j->df.probe_policy = o->probe_policy;
	j->df.probe_mx = o->probe_mx;
	sw->active++;
	if (sw->active > sw->stats->peak_in_flight)
		sw->stats->peak_in_flight = sw->active;
	j->pending = 1;	/* held while the questions go out: answers may come at once */
	if (o->probe_policy) {
		bsnprintf(qname, sizeof(qname), "_mta-sts.%s", j->df.domain);
		j->pending += 2;
		j->wait_sts = j->wait_addrs = true;
		dns_query_txt(sw->dns, qname, on_sts_txt, j);
		bsnprintf(qname, sizeof(qname), "mta-sts.%s", j->df.domain);
		dns_query_addrs(sw->dns, qname, true, on_policy_addrs, j);
	}
	if (o->probe_tlsrpt) {
		bsnprintf(qname, sizeof(qname), "_smtp._tls.%s", j->df.domain);
		j->pending++;
		j->wait_tlsrpt = true;
		dns_query_txt(sw->dns, qname, on_tlsrpt_txt, j);
	}
	if (o->probe_mx) {
		j->pending++;
		j->wait_mx = true;
		dns_query_mx(sw->dns, j->df.domain, on_mx, j);
	}
	job_release(j);
}

static void fill_more(struct sweep *sw)
{
	while (!sw->stop && sw->next_start < sw->n && sw->active < sw->o->concurrency &&
	       sw->next_start - sw->next_out < sw->window) {
		size_t idx = sw->next_start++;

		job_start(sw, &sw->ring[idx % sw->window], idx);
	}
}

static void describe_pending(struct job *j)
{
	struct dynbuf sb;

	dynbuf_init(&sb, sizeof(j->df.pending) - 1);
	if (j->wait_sts)
		dynbuf_printf(&sb, "%sDNS TXT _mta-sts", sb.len ? ", " : "");
	if (j->wait_tlsrpt)
		dynbuf_printf(&sb, "%sDNS TXT _smtp._tls", sb.len ? ", " : "");
	if (j->wait_mx)
		dynbuf_printf(&sb, "%sDNS MX", sb.len ? ", " : "");
	if (j->wait_addrs)
		dynbuf_printf(&sb, "%sDNS A/AAAA mta-sts", sb.len ? ", " : "");
	if (j->wait_fetch)
		dynbuf_printf(&sb, "%spolicy fetch", sb.len ? ", " : "");
	for (size_t i = 0; i < j->df.n_mx; i++)
		if (j->df.mx[i].addrs.rc4 == DNS_NOT_ASKED)
			dynbuf_printf(&sb, "%sMX %s", sb.len ? ", " : "", j->df.mx[i].name);
	strlcpy_s(j->df.pending, sb.buf ? sb.buf : "", sizeof(j->df.pending));
	dynbuf_free(&sb);
}

/* Hand finished domains to the caller in input order and start more. */
static void job_deliver_ready(struct sweep *sw)
{
	while (sw->next_out < sw->next_start) {
		struct job *j = &sw->ring[sw->next_out % sw->window];

		if (!j->done)
			break;
		if (!sw->stop && !sw->fn(sw->fn_arg, j->idx, &j->df))
			sw->stop = true;
		domain_facts_free(&j->df);
		j->started = false;
		sw->next_out++;
	}
	fill_more(sw);
}

static void on_deadline(void *arg)
{
	struct sweep *sw = arg;

	sw->deadline = NULL;
	sw->deadline_hit = true;
}

static void free_hosts(struct sweep *sw)
{
	for (size_t b = 0; b < HOST_BUCKETS; b++)
		while (sw->buckets[b])
			host_free(sw->buckets[b]);
}

static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void default_ehlo(char *buf, size_t len)
{
	if (gethostname(buf, len) < 0 || !strchr(buf, '.') || !dns_name_valid(buf))
		bsnprintf(buf, len, "stswatch.invalid");	/* RFC 2606: never a real host */
}

/* After the deadline: every unfinished domain is delivered with what it has. */
static void flush_unfinished(struct sweep *sw)
{
	for (size_t k = sw->next_out; k < sw->next_start; k++) {
		struct job *j = &sw->ring[k % sw->window];

		if (j->done)
			continue;
		describe_pending(j);
		j->df.deadline_hit = true;
		j->done = true;
	}
	while (sw->next_out < sw->next_start) {
		struct job *j = &sw->ring[sw->next_out % sw->window];

		if (!sw->stop && !sw->fn(sw->fn_arg, j->idx, &j->df))
			sw->stop = true;
		domain_facts_free(&j->df);
		sw->next_out++;
	}
	/* domains never started are reported too, so every input gets an answer */
	while (!sw->stop && sw->next_out < sw->n) {
		struct domain_facts df;

		domain_facts_init(&df, sw->name(sw->name_arg, sw->next_out));
		df.checked_at = time(NULL);
		df.deadline_hit = true;
		strlcpy_s(df.pending, "not started", sizeof(df.pending));
		if (!sw->fn(sw->fn_arg, sw->next_out, &df))
			sw->stop = true;
		domain_facts_free(&df);
		sw->next_out++;
	}
}

int sweep_run(const struct sweep_opts *o, size_t n, sweep_name_fn name, void *name_arg,
	      sweep_result_fn fn, void *arg, struct sweep_stats *stats, char *err, size_t errlen)
{
	struct sweep sw;
	struct sweep_stats local;
	struct smtp_client_opts so;
	char ehlo[HOST_LEN];
	int rc = -1;

	memset(&sw, 0, sizeof(sw));
	if (!stats)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	stats->domains = n;
	sw.o = o;
	sw.n = n;
	sw.name = name;
	sw.name_arg = name_arg;
	sw.fn = fn;
	sw.fn_arg = arg;
	sw.stats = stats;
	sw.window = (size_t)(o->concurrency ? o->concurrency : 1) * 4;
	raise_fd_limit();

	sw.lp = loop_new(NULL);
	if (!sw.lp) {
		bsnprintf(err, errlen, "cannot create the event loop");
		goto out;
	}
	sw.store = tlscert_store_new(o->ca_file, err, errlen);
	if (!sw.store)
		goto out;
	sw.dns = dns_client_new(sw.lp, o->resolver, o->to.dns_ms, o->to.dns_tries, err, errlen);
	if (!sw.dns)
		goto out;
	sw.https = https_client_new(sw.lp, sw.store, NULL, err, errlen);
	if (!sw.https)
		goto out;
	if (o->ehlo_name)
		strlcpy_s(ehlo, o->ehlo_name, sizeof(ehlo));
	else
		default_ehlo(ehlo, sizeof(ehlo));
	so.ehlo_name = ehlo;
	so.connect_ms = o->to.smtp_connect_ms;
	so.step_ms = o->to.smtp_step_ms;
	so.port = o->smtp_port ? o->smtp_port : 25;
	sw.smtp = smtp_client_new(sw.lp, sw.store, &so, err, errlen);
	if (!sw.smtp)
		goto out;
	sw.ring = xcalloc(sw.window, sizeof(*sw.ring));
	if (o->deadline_ms)
		sw.deadline = loop_timer_add(sw.lp, o->deadline_ms, on_deadline, &sw);

	fill_more(&sw);
	while (!sw.stop && !sw.deadline_hit && sw.next_out < sw.n) {
		if (loop_run_once(sw.lp, 1000) < 0) {
			bsnprintf(err, errlen, "event loop failed");
			goto out;
		}
	}
	if (sw.deadline_hit) {
		/* no callback may touch a job after this: hosts (and their probes), then clients */
		free_hosts(&sw);
		smtp_client_free(sw.smtp);
		sw.smtp = NULL;
		https_client_free(sw.https);
		sw.https = NULL;
		dns_client_free(sw.dns);
		sw.dns = NULL;
		flush_unfinished(&sw);
	}
	rc = 0;
out:
	free_hosts(&sw);
	if (sw.smtp)
		smtp_client_free(sw.smtp);
	if (sw.https)
		https_client_free(sw.https);
	if (sw.dns)
		dns_client_free(sw.dns);
	if (sw.ring) {
		for (size_t k = sw.next_out; k < sw.next_start; k++)
			domain_facts_free(&sw.ring[k % sw.window].df);
	}
	if (sw.lp && sw.deadline)
		loop_timer_cancel(sw.lp, sw.deadline);
	free(sw.ring);
	tlscert_store_free(sw.store);
	loop_free(sw.lp);
	return rc;
}

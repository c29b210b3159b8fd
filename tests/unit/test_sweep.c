/*
 * Unit tests of the sweep with fake probes on an injected clock (no sleeps, no network):
 * the window and its FIFO, streaming through on_room, MX hosts shared within their TTL
 * and probed anew when fresh, the per-domain deadline, shutdown and free while busy.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/clients.h"
#include "agent/sweep.h"
#include "checks/dns_answer.h"
#include "checks/judge.h"
#include "lib/loop.h"

#define STEP_MS 10
#define MAX_LOG 1024

/* ---- the fake world --------------------------------------------------------------------- */

enum fkind { K_TXT, K_MX, K_ADDRS, K_FETCH, K_SMTP, K__COUNT };

struct fake;

/* One outstanding fake request; answered by a loop timer unless it stalls. */
struct freq {
	struct fake *f;
	struct freq *prev, *next;
	enum fkind kind;
	char name[HOST_LEN];
	char ip[IP_STR_LEN];
	int family;
	void *fn;
	void *arg;
	struct loop_timer *t;
};

/* A name that answers late (latency_ms), never (stall), or with a local fault (SMTP). */
struct rule {
	enum fkind kind;
	const char *name;
	int latency_ms;	/* -1: stalls */
	bool local_fault;
	unsigned fail_times;	/* K_ADDRS: the first this many lookups time out */
	bool cname_loop;	/* K_ADDRS: ... or are a CNAME loop */
};

struct world_mx {
	const char *domain;
	const char *mx[3];
};

struct fake {
	uint64_t ms;
	time_t wall;
	struct loop *lp;
	struct clients cl;
	struct freq *live;
	unsigned n_live;
	struct {
		enum fkind kind;
		char name[HOST_LEN];
	} log[MAX_LOG];
	size_t n_log;
	unsigned started[K__COUNT], cancelled[K__COUNT];
	const struct rule *rules;
	size_t n_rules;
	const struct world_mx *world;
	size_t n_world;
	/* what the test sees of the sweep from outside */
	unsigned begun, delivered, max_outstanding, concurrency;
};

static uint64_t fake_mono(void *arg)
{
	return ((struct fake *)arg)->ms;
}

static time_t fake_wall(void *arg)
{
	struct fake *f = arg;

	return f->wall + (time_t)(f->ms / 1000);
}

static const struct rule *rule_for(struct fake *f, enum fkind kind, const char *name)
{
	for (size_t i = 0; i < f->n_rules; i++)
		if (f->rules[i].kind == kind && strcmp(f->rules[i].name, name) == 0)
			return &f->rules[i];
	return NULL;
}

static void req_unlink(struct freq *r)
{
	struct fake *f = r->f;

	if (r->prev)
		r->prev->next = r->next;
	else
		f->live = r->next;
	if (r->next)
		r->next->prev = r->prev;
	f->n_live--;
}

static void answer_txt(struct freq *r)
{
	struct txt_answer ans;
	const char *rec = strncmp(r->name, "_mta-sts.", 9) == 0 ? "v=STSv1; id=1" :
			  "v=TLSRPTv1; rua=mailto:tlsrpt@example.test";

	memset(&ans, 0, sizeof(ans));
	ans.rc = DNS_OK;
	ans.n = 1;
	ans.recs[0] = strdup(rec);
	ans.lens[0] = strlen(rec);
	((dns_txt_fn)r->fn)(r->arg, &ans);
	txt_answer_free(&ans);
}

static void answer_mx(struct freq *r)
{
	struct fake *f = r->f;
	struct mx_answer ans;
	const char *const pool[] = { "pool.test", NULL, NULL };
	const char *const *mx = pool;

	for (size_t i = 0; i < f->n_world; i++)
		if (strcmp(f->world[i].domain, r->name) == 0)
			mx = f->world[i].mx;
	memset(&ans, 0, sizeof(ans));
	ans.rc = DNS_OK;
	for (size_t i = 0; i < 3 && mx[i]; i++) {
		snprintf(ans.v[i].host, sizeof(ans.v[i].host), "%s", mx[i]);
		ans.v[i].preference = 10 * (int)(i + 1);
		ans.n++;
	}
	((dns_mx_fn)r->fn)(r->arg, &ans);
}

static unsigned count(const struct fake *f, enum fkind kind, const char *name);

static void answer_addrs(struct freq *r)
{
	struct addr_answer ans;
	const struct rule *ru = rule_for(r->f, K_ADDRS, r->name);
	unsigned h = 0;

	for (const char *p = r->name; *p; p++)
		h = h * 31 + (unsigned char)*p;
	memset(&ans, 0, sizeof(ans));
	if (ru && count(r->f, K_ADDRS, r->name) <= ru->fail_times) {
		/* a lost answer: c-ares gave up on both families (or the name loops) */
		ans.rc4 = ru->cname_loop ? DNS_CNAME_LOOP : DNS_TIMEOUT;
		ans.rc6 = ans.rc4;
		snprintf(ans.detail, sizeof(ans.detail), "A: %s", ru->cname_loop ?
			 "CNAME loop: a -> b -> a" : "no answer from the resolver");
		((dns_addr_fn)r->fn)(r->arg, &ans);
		return;
	}
	ans.rc4 = DNS_OK;
	ans.rc6 = DNS_NODATA;
	ans.n = 1;
	ans.v[0].family = AF_INET;
	snprintf(ans.v[0].ip, sizeof(ans.v[0].ip), "192.0.2.%u", h % 250 + 1);
	((dns_addr_fn)r->fn)(r->arg, &ans);
}

static void answer_fetch(struct freq *r)
{
	struct policy_fetch res;
	const char *body = "version: STSv1\r\nmode: enforce\r\nmx: *.test\r\nmax_age: 86400\r\n";

	memset(&res, 0, sizeof(res));
	res.rc = FETCH_OK;
	res.http_status = 200;
	snprintf(res.content_type, sizeof(res.content_type), "text/plain");
	res.body = strdup(body);
	res.body_len = strlen(body);
	((https_done_fn)r->fn)(r->arg, &res);
	free(res.body);
}

static void answer_smtp(struct freq *r)
{
	struct smtp_facts res;
	const struct rule *ru = rule_for(r->f, K_SMTP, r->name);

	memset(&res, 0, sizeof(res));
	res.family = r->family;
	snprintf(res.ip, sizeof(res.ip), "%s", r->ip);
	if (ru && ru->local_fault) {
		res.rc = SMTP_LOCAL;
		snprintf(res.error, sizeof(res.error), "this host cannot open a socket");
	} else {
		res.rc = SMTP_OK;
		res.stage = SMTP_STAGE_DONE;
		res.starttls_offered = true;
		snprintf(res.tls_version, sizeof(res.tls_version), "TLSv1.3");
	}
	((smtp_done_fn)r->fn)(r->arg, &res);
}

static void on_answer(void *arg)
{
	struct freq *r = arg;

	r->t = NULL;
	req_unlink(r);
	switch (r->kind) {
	case K_TXT:
		answer_txt(r);
		break;
	case K_MX:
		answer_mx(r);
		break;
	case K_ADDRS:
		answer_addrs(r);
		break;
	case K_FETCH:
		answer_fetch(r);
		break;
	case K_SMTP:
	case K__COUNT:
		answer_smtp(r);
		break;
	}
	free(r);
}

static struct freq *req_new(struct clients *c, enum fkind kind, const char *name, void *fn,
			    void *arg)
{
	struct fake *f = c->fake;
	struct freq *r = calloc(1, sizeof(*r));
	const struct rule *ru = rule_for(f, kind, name);
	int latency = ru ? ru->latency_ms : (kind == K_SMTP ? 200 : kind == K_FETCH ? 100 : 50);

	assert_non_null(r);
	r->f = f;
	r->kind = kind;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->fn = fn;
	r->arg = arg;
	r->next = f->live;
	if (f->live)
		f->live->prev = r;
	f->live = r;
	f->n_live++;
	f->started[kind]++;
	if (f->n_log < MAX_LOG) {
		f->log[f->n_log].kind = kind;
		snprintf(f->log[f->n_log].name, sizeof(f->log[f->n_log].name), "%s", name);
		f->n_log++;
	}
	if (kind == K_MX) {
		/* a domain begins: never more than the window may be outstanding */
		f->begun++;
		if (f->begun - f->delivered > f->max_outstanding)
			f->max_outstanding = f->begun - f->delivered;
	}
	if (latency >= 0)
		r->t = loop_timer_add(f->lp, (uint64_t)latency, on_answer, r);
	return r;
}

static void req_cancel(struct clients *c, void *p)
{
	struct fake *f = c->fake;
	struct freq *r = p;

	assert_non_null(r);
	f->cancelled[r->kind]++;
	loop_timer_cancel(f->lp, r->t);
	req_unlink(r);
	free(r);
}

static void *fake_txt(struct clients *c, const char *name, dns_txt_fn fn, void *arg)
{
	return req_new(c, K_TXT, name, (void *)fn, arg);
}

static void *fake_mx(struct clients *c, const char *name, dns_mx_fn fn, void *arg)
{
	return req_new(c, K_MX, name, (void *)fn, arg);
}

static void *fake_addrs(struct clients *c, const char *name, bool ipv6, dns_addr_fn fn,
			void *arg)
{
	(void)ipv6;
	return req_new(c, K_ADDRS, name, (void *)fn, arg);
}

static void *fake_fetch(struct clients *c, const char *domain, const struct addr_answer *addrs,
			unsigned timeout_ms, time_t now, https_done_fn fn, void *arg)
{
	(void)addrs;
	(void)timeout_ms;
	(void)now;
	return req_new(c, K_FETCH, domain, (void *)fn, arg);
}

static void *fake_smtp(struct clients *c, const char *host, int family, const char *ip,
		       time_t now, smtp_done_fn fn, void *arg)
{
	struct freq *r = req_new(c, K_SMTP, host, (void *)fn, arg);

	(void)now;
	r->family = family;
	snprintf(r->ip, sizeof(r->ip), "%s", ip);
	return r;
}

static const struct probe_ops fake_ops = {
	.txt = fake_txt,
	.mx = fake_mx,
	.addrs = fake_addrs,
	.dns_cancel = req_cancel,
	.fetch = fake_fetch,
	.fetch_cancel = req_cancel,
	.smtp = fake_smtp,
	.smtp_cancel = req_cancel,
};

static struct fake *fake_new(void)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct loop_clock clock = { fake_mono, fake_wall, NULL };

	assert_non_null(f);
	f->ms = 1000;
	f->wall = 1800000000;
	clock.arg = f;
	f->lp = loop_new(&clock);
	assert_non_null(f->lp);
	f->cl.ops = &fake_ops;
	f->cl.fake = f;
	return f;
}

static void fake_free(struct fake *f)
{
	assert_int_equal(f->n_live, 0);	/* nothing the sweep asked for is left behind */
	assert_int_equal(loop_pending(f->lp), 0);
	loop_free(f->lp);
	free(f);
}

/* Move the clock by ms in small steps, running the loop's rounds as time passes. */
static void advance(struct fake *f, uint64_t ms)
{
	for (uint64_t t = 0; t < ms; t += STEP_MS) {
		f->ms += STEP_MS;
		for (int k = 0; k < 6; k++)
			assert_int_equal(loop_run_once(f->lp, 0), 0);
	}
}

/* Run until the sweep has handed back everything (at most limit_ms of fake time). */
static void run_idle(struct fake *f, struct sweep *sw, uint64_t limit_ms)
{
	uint64_t end = f->ms + limit_ms;

	for (int k = 0; k < 6; k++)
		assert_int_equal(loop_run_once(f->lp, 0), 0);
	while (!sweep_idle(sw) && f->ms < end)
		advance(f, STEP_MS);
	assert_true(sweep_idle(sw));
}

static unsigned count(const struct fake *f, enum fkind kind, const char *name)
{
	unsigned n = 0;

	for (size_t i = 0; i < f->n_log; i++)
		if (f->log[i].kind == kind && strcmp(f->log[i].name, name) == 0)
			n++;
	return n;
}

static struct sweep_opts opts(unsigned concurrency)
{
	struct sweep_opts o;

	memset(&o, 0, sizeof(o));
	o.concurrency = concurrency;
	o.probe_policy = o.probe_mx = o.probe_tlsrpt = true;
	o.policy_ms = 60000;
	return o;
}

/* ---- results ------------------------------------------------------------------------------ */

struct result {
	char domain[HOST_LEN];
	bool deadline_hit;
	char pending[256];
	enum fetch_result fetch;
	size_t n_mx;
	enum smtp_result smtp0;	/* first address of the first MX */
	unsigned smtp_ok;	/* addresses probed OK over every MX */
	enum dns_result mx0_rc4;	/* the first MX's A lookup */
	enum mx_pending pend[3];	/* per MX: what the deadline left pending */
	/* the judge on the facts */
	enum status status;
	bool dns_error;		/* a dns.error finding */
	unsigned mx_pending;
	time_t fails_at;
};

struct results {
	struct fake *f;
	struct result v[256];
	size_t n;
	struct sweep *sw;	/* for callbacks that act on the sweep */
	bool free_in_callback;
};

static void on_done(void *arg, struct domain_facts *df)
{
	struct results *rs = arg;
	struct result *r = &rs->v[rs->n++];

	assert_true(rs->n <= 256);
	rs->f->delivered++;
	snprintf(r->domain, sizeof(r->domain), "%s", df->domain);
	r->deadline_hit = df->deadline_hit;
	snprintf(r->pending, sizeof(r->pending), "%s", df->pending);
	r->fetch = df->fetch.rc;
	r->n_mx = df->n_mx;
	r->smtp0 = df->n_mx && df->mx[0].n_smtp ? df->mx[0].smtp[0].rc : SMTP_NOT_ASKED;
	for (size_t i = 0; i < df->n_mx; i++)
		for (size_t a = 0; a < df->mx[i].n_smtp; a++)
			if (df->mx[i].smtp[a].rc == SMTP_OK)
				r->smtp_ok++;
	r->mx0_rc4 = df->n_mx ? df->mx[0].addrs.rc4 : DNS_NOT_ASKED;
	for (size_t i = 0; i < df->n_mx && i < 3; i++)
		r->pend[i] = df->mx[i].pending;
	{
		struct judge_opts jo;
		struct verdict v;

		judge_opts_defaults(&jo);
		judge_domain(&jo, df, NULL, df->checked_at, &v);
		r->status = v.status;
		r->dns_error = findings_find(&v.findings, F_DNS_ERROR) != NULL;
		r->mx_pending = v.mx_pending;
		r->fails_at = v.fails_at;
		verdict_free(&v);
	}
	if (rs->free_in_callback) {
		sweep_free(rs->sw);
		rs->sw = NULL;
	}
}

static const struct result *result_of(const struct results *rs, const char *domain)
{
	const struct result *found = NULL;

	for (size_t i = 0; i < rs->n; i++)
		if (strcmp(rs->v[i].domain, domain) == 0) {
			assert_null(found);	/* handed back once */
			found = &rs->v[i];
		}
	assert_non_null(found);
	return found;
}

/* ---- the window ------------------------------------------------------------------------------ */

/* At most concurrency domains in flight; the rest wait and start in the order added. */
static void test_window_fifo(void **state)
{
	static const struct rule slow[] = {
		{ K_TXT, "_mta-sts.d0.test", 700, false, 0, false },	/* d0 finishes last of its wave */
	};
	struct fake *f = fake_new();
	struct sweep_opts o = opts(3);
	struct results rs = { .f = f };
	struct sweep *sw;
	char name[32];
	size_t mx_seen = 0;

	(void)state;
	f->rules = slow;
	f->n_rules = 1;
	sw = sweep_new(f->lp, &f->cl, &o);
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "d%d.test", i);
		sweep_add(sw, name, NULL, on_done, &rs);
	}
	assert_int_equal(f->started[K_MX], 0);	/* never from inside sweep_add */
	assert_int_equal(sweep_queued(sw), 10);
	assert_int_equal(loop_run_once(f->lp, 0), 0);
	assert_int_equal(sweep_in_flight(sw), 3);
	assert_int_equal(sweep_queued(sw), 7);
	assert_int_equal(f->started[K_MX], 3);
	run_idle(f, sw, 10000);
	assert_int_equal(rs.n, 10);
	assert_int_equal(f->max_outstanding, 3);
	assert_int_equal(sweep_stats(sw)->peak_in_flight, 3);
	/* started in the order added */
	for (size_t i = 0; i < f->n_log; i++) {
		if (f->log[i].kind != K_MX)
			continue;
		snprintf(name, sizeof(name), "d%zu.test", mx_seen++);
		assert_string_equal(f->log[i].name, name);
	}
	assert_int_equal(mx_seen, 10);
	/* handed back as they complete: the slow d0 is not first */
	assert_string_not_equal(rs.v[0].domain, "d0.test");
	for (int i = 0; i < 10; i++) {
		const struct result *r;

		snprintf(name, sizeof(name), "d%d.test", i);
		r = result_of(&rs, name);
		assert_false(r->deadline_hit);
		assert_int_equal(r->fetch, FETCH_OK);
		assert_int_equal(r->n_mx, 1);
		assert_int_equal(r->smtp0, SMTP_OK);
	}
	sweep_free(sw);
	fake_free(f);
}

struct feeder {
	struct results *rs;
	size_t next, n;
	unsigned calls, max_room;
	size_t max_queued;
};

static void feed(void *arg, struct sweep *sw, unsigned room)
{
	struct feeder *fd = arg;
	char name[32];

	fd->calls++;
	if (room > fd->max_room)
		fd->max_room = room;
	while (room-- && fd->next < fd->n) {
		snprintf(name, sizeof(name), "s%zu.test", fd->next++);
		sweep_add(sw, name, NULL, on_done, fd->rs);
	}
	if (sweep_queued(sw) > fd->max_queued)
		fd->max_queued = sweep_queued(sw);
}

/* A caller streams a long list through on_room: nothing piles up in the queue. */
static void test_on_room_streams(void **state)
{
	struct fake *f = fake_new();
	struct sweep_opts o = opts(4);
	struct results rs = { .f = f };
	struct feeder fd = { &rs, 0, 60, 0, 0, 0 };
	struct sweep *sw = sweep_new(f->lp, &f->cl, &o);

	(void)state;
	sweep_on_room(sw, feed, &fd);
	run_idle(f, sw, 60000);	/* idle only once the feeder has nothing more */
	assert_int_equal(fd.next, fd.n);
	sweep_on_room(sw, NULL, NULL);
	assert_int_equal(rs.n, 60);
	assert_int_equal(f->max_outstanding, 4);
	assert_true(fd.max_room <= 4);
	assert_true(fd.max_queued <= 4);	/* only what fits right now */
	assert_true(fd.calls >= 15);
	sweep_free(sw);
	fake_free(f);
}

/* ---- shared MX hosts ------------------------------------------------------------------------ */

/* A host shared by many domains is resolved and probed once within the TTL, again after. */
static void test_mx_shared_ttl(void **state)
{
	struct fake *f = fake_new();
	struct sweep_opts o = opts(50);
	struct results rs = { .f = f };
	struct sweep_domain_opts fresh = { 0, true };
	struct sweep *sw;
	char name[32];

	(void)state;
	o.host_ttl_ms = 10000;
	sw = sweep_new(f->lp, &f->cl, &o);
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "a%d.test", i);
		sweep_add(sw, name, NULL, on_done, &rs);
	}
	run_idle(f, sw, 5000);
	assert_int_equal(rs.n, 20);
	assert_int_equal(count(f, K_ADDRS, "pool.test"), 1);
	assert_int_equal(count(f, K_SMTP, "pool.test"), 1);
	assert_int_equal(sweep_stats(sw)->mx_hosts_probed, 1);
	assert_int_equal(sweep_stats(sw)->mx_cache_hits, 19);	/* joined the probe in flight */
	for (size_t i = 0; i < rs.n; i++)
		assert_int_equal(rs.v[i].smtp_ok, 1);

	/* later, within the TTL: from the cache */
	advance(f, 5000);
	sweep_add(sw, "b.test", NULL, on_done, &rs);
	run_idle(f, sw, 5000);
	assert_int_equal(count(f, K_ADDRS, "pool.test"), 1);
	assert_int_equal(count(f, K_SMTP, "pool.test"), 1);
	assert_int_equal(result_of(&rs, "b.test")->smtp0, SMTP_OK);

	/* past the TTL: probed anew */
	advance(f, 5000);
	sweep_add(sw, "c.test", NULL, on_done, &rs);
	run_idle(f, sw, 5000);
	assert_int_equal(count(f, K_ADDRS, "pool.test"), 2);
	assert_int_equal(count(f, K_SMTP, "pool.test"), 2);

	/* within the new TTL, a fresh re-check does not take the cached host */
	advance(f, 1000);
	sweep_add(sw, "retry.test", &fresh, on_done, &rs);
	run_idle(f, sw, 5000);
	assert_int_equal(count(f, K_ADDRS, "pool.test"), 3);
	assert_int_equal(count(f, K_SMTP, "pool.test"), 3);
	assert_int_equal(result_of(&rs, "retry.test")->smtp0, SMTP_OK);
	/* and the others then get its newer result from the cache */
	sweep_add(sw, "d.test", NULL, on_done, &rs);
	run_idle(f, sw, 5000);
	assert_int_equal(count(f, K_ADDRS, "pool.test"), 3);
	assert_int_equal(sweep_stats(sw)->mx_hosts_probed, 3);
	sweep_free(sw);
	fake_free(f);
}

/* TTL 0: the whole life of the sweep (check, run --once). */
static void test_mx_shared_whole_sweep(void **state)
{
	struct fake *f = fake_new();
	struct sweep_opts o = opts(2);
	struct results rs = { .f = f };
	struct sweep *sw = sweep_new(f->lp, &f->cl, &o);

	(void)state;
	sweep_add(sw, "x.test", NULL, on_done, &rs);
	run_idle(f, sw, 5000);
	advance(f, 3600 * 1000);
	sweep_add(sw, "y.test", NULL, on_done, &rs);
	run_idle(f, sw, 5000);
	assert_int_equal(count(f, K_ADDRS, "pool.test"), 1);
	assert_int_equal(result_of(&rs, "y.test")->smtp0, SMTP_OK);
	sweep_free(sw);
	fake_free(f);
}

/* Our own descriptor shortage is delivered to the waiting domains but never reused. */
static void test_local_fault_not_cached(void **state)
{
	static const struct rule local[] = { { K_SMTP, "pool.test", 200, true, 0, false } };
	struct fake *f = fake_new();
	struct sweep_opts o = opts(2);
	struct results rs = { .f = f };
	struct sweep *sw = sweep_new(f->lp, &f->cl, &o);

	(void)state;
	f->rules = local;
	f->n_rules = 1;
	sweep_add(sw, "x.test", NULL, on_done, &rs);
	run_idle(f, sw, 5000);
	assert_int_equal(result_of(&rs, "x.test")->smtp0, SMTP_LOCAL);
	f->n_rules = 0;
	sweep_add(sw, "y.test", NULL, on_done, &rs);
	run_idle(f, sw, 5000);
	assert_int_equal(count(f, K_SMTP, "pool.test"), 2);
	assert_int_equal(result_of(&rs, "y.test")->smtp0, SMTP_OK);
	sweep_free(sw);
	fake_free(f);
}

/* ---- a lost answer for a shared host --------------------------------------------------------- */

/*
 * issue 11: one lost DNS answer for an MX host that many domains share turned every one of
 * them UNKNOWN. The lookup is asked again after a short pause; the second answer serves all.
 */
static void test_mx_dns_retry(void **state)
{
	static const struct rule lost[] = { { K_ADDRS, "pool.test", 50, false, 1, false } };
	struct fake *f = fake_new();
	struct sweep_opts o = opts(20);
	struct results rs = { .f = f };
	struct sweep *sw;
	char name[32];

	(void)state;
	o.host_dns_retries = 2;
	o.host_dns_retry_ms = 500;
	f->rules = lost;
	f->n_rules = 1;
	sw = sweep_new(f->lp, &f->cl, &o);
	for (int i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "s%d.test", i);
		sweep_add(sw, name, NULL, on_done, &rs);
	}
	advance(f, 300);
	assert_int_equal(rs.n, 0);	/* nobody is handed the lost answer */
	run_idle(f, sw, 5000);
	assert_int_equal(rs.n, 8);
	assert_int_equal(count(f, K_ADDRS, "pool.test"), 2);
	assert_int_equal(sweep_stats(sw)->mx_dns_retries, 1);
	assert_int_equal(count(f, K_SMTP, "pool.test"), 1);
	for (size_t i = 0; i < rs.n; i++) {
		assert_int_equal(rs.v[i].smtp0, SMTP_OK);
		assert_false(rs.v[i].dns_error);
	}
	sweep_free(sw);
	fake_free(f);
}

/* A host that never answers is asked 1 + retries times, then "could not tell" for all. */
static void test_mx_dns_retry_gives_up(void **state)
{
	static const struct rule dead[] = { { K_ADDRS, "pool.test", 50, false, 100, false } };
	struct fake *f = fake_new();
	struct sweep_opts o = opts(20);
	struct results rs = { .f = f };
	struct sweep *sw;
	uint64_t t0;

	(void)state;
	o.host_dns_retries = 2;
	o.host_dns_retry_ms = 500;
	f->rules = dead;
	f->n_rules = 1;
	sw = sweep_new(f->lp, &f->cl, &o);
	sweep_add(sw, "a.test", NULL, on_done, &rs);
	sweep_add(sw, "b.test", NULL, on_done, &rs);
	t0 = f->ms;
	run_idle(f, sw, 10000);
	assert_true(f->ms - t0 >= 2 * 500 + 3 * 50);	/* waited between the lookups */
	assert_int_equal(count(f, K_ADDRS, "pool.test"), 3);
	assert_int_equal(count(f, K_SMTP, "pool.test"), 0);
	assert_int_equal(result_of(&rs, "a.test")->mx0_rc4, DNS_TIMEOUT);
	assert_true(result_of(&rs, "b.test")->dns_error);
	assert_int_equal(result_of(&rs, "b.test")->status, STATUS_UNKNOWN);

	/* no retries configured: asked once */
	sweep_free(sw);
	o.host_dns_retries = 0;
	sw = sweep_new(f->lp, &f->cl, &o);
	sweep_add(sw, "c.test", NULL, on_done, &rs);
	run_idle(f, sw, 10000);
	assert_int_equal(count(f, K_ADDRS, "pool.test"), 4);
	sweep_free(sw);
	fake_free(f);
}

/* A CNAME loop is an answer, if a broken one: it is not asked again. */
static void test_mx_dns_loop_not_retried(void **state)
{
	static const struct rule loop[] = { { K_ADDRS, "pool.test", 50, false, 100, true } };
	struct fake *f = fake_new();
	struct sweep_opts o = opts(4);
	struct results rs = { .f = f };
	struct sweep *sw;

	(void)state;
	o.host_dns_retries = 2;
	o.host_dns_retry_ms = 500;
	f->rules = loop;
	f->n_rules = 1;
	sw = sweep_new(f->lp, &f->cl, &o);
	sweep_add(sw, "a.test", NULL, on_done, &rs);
	run_idle(f, sw, 5000);
	assert_int_equal(count(f, K_ADDRS, "pool.test"), 1);
	assert_int_equal(result_of(&rs, "a.test")->mx0_rc4, DNS_CNAME_LOOP);
	assert_true(result_of(&rs, "a.test")->dns_error);
	sweep_free(sw);
	fake_free(f);
}

/* A domain whose deadline passes while its host waits to be asked again: nothing leaks. */
static void test_mx_dns_retry_deadline(void **state)
{
	static const struct rule dead[] = { { K_ADDRS, "pool.test", 50, false, 100, false } };
	struct fake *f = fake_new();
	struct sweep_opts o = opts(4);
	struct results rs = { .f = f };
	struct sweep_domain_opts dl = { 300, false };
	struct sweep *sw;
	const struct result *r;

	(void)state;
	o.host_dns_retries = 2;
	o.host_dns_retry_ms = 500;
	f->rules = dead;
	f->n_rules = 1;
	sw = sweep_new(f->lp, &f->cl, &o);
	sweep_add(sw, "a.test", &dl, on_done, &rs);
	run_idle(f, sw, 5000);
	r = result_of(&rs, "a.test");
	assert_true(r->deadline_hit);
	assert_non_null(strstr(r->pending, "DNS A/AAAA MX pool.test"));
	assert_int_equal(r->pend[0], MX_PENDING_DNS);
	assert_false(r->dns_error);
	assert_int_equal(count(f, K_ADDRS, "pool.test"), 1);	/* the retry was dropped */
	advance(f, 2000);
	assert_int_equal(count(f, K_ADDRS, "pool.test"), 1);
	sweep_free(sw);
	fake_free(f);
}

/* ---- the deadline ------------------------------------------------------------------------------ */

/*
 * slow.test waits for a stalled policy fetch and two MX of its own (one stalls in STARTTLS,
 * one in DNS) and one it shares; its deadline delivers
 * it with the pending parts named and cancels what was only its own, while the host it
 * shares with other.test is still probed and handed to other.test.
 */
static void test_deadline(void **state)
{
	static const struct rule rules[] = {
		{ K_FETCH, "slow.test", -1, false, 0, false },
		{ K_SMTP, "own-mx.slow.test", -1, false, 0, false },
		{ K_SMTP, "pool.test", 3000, false, 0, false },
		{ K_MX, "nomx.test", -1, false, 0, false },
		{ K_ADDRS, "unresolved.slow.test", -1, false, 0, false },
	};
	static const struct world_mx world[] = {
		{ "slow.test", { "pool.test", "own-mx.slow.test", "unresolved.slow.test" } },
		{ "other.test", { "pool.test", NULL, NULL } },
	};
	struct fake *f = fake_new();
	struct sweep_opts o = opts(10);
	struct results rs = { .f = f };
	struct sweep_domain_opts dl = { 2000, false };
	struct sweep *sw;
	const struct result *r;

	(void)state;
	f->rules = rules;
	f->n_rules = 5;
	f->world = world;
	f->n_world = 2;
	sw = sweep_new(f->lp, &f->cl, &o);
	sweep_add(sw, "slow.test", &dl, on_done, &rs);
	sweep_add(sw, "other.test", NULL, on_done, &rs);
	sweep_add(sw, "nomx.test", &dl, on_done, &rs);
	advance(f, 1900);
	assert_int_equal(rs.n, 0);
	advance(f, 200);
	assert_int_equal(rs.n, 2);	/* both deadlines, nothing else yet */
	r = result_of(&rs, "slow.test");
	assert_true(r->deadline_hit);
	assert_non_null(strstr(r->pending, "policy fetch"));
	assert_non_null(strstr(r->pending, "STARTTLS MX pool.test"));
	assert_non_null(strstr(r->pending, "STARTTLS MX own-mx.slow.test"));
	assert_non_null(strstr(r->pending, "DNS A/AAAA MX unresolved.slow.test"));
	assert_null(strstr(r->pending, "DNS TXT"));
	assert_null(strstr(r->pending, "DNS MX,"));
	assert_int_equal(r->fetch, FETCH_NOT_ASKED);
	/*
	 * issue 11: the hosts still awaited were "not asked" facts, which the judge read as
	 * "DNS lookup of A/AAAA of the MX failed (not asked)" with no valid path and fails_at
	 * now. They are pending: check.timeout says it, no dns.error, no made-up date.
	 */
	assert_int_equal(r->pend[0], MX_PENDING_STARTTLS);	/* pool.test */
	assert_int_equal(r->pend[1], MX_PENDING_STARTTLS);	/* own-mx.slow.test */
	assert_int_equal(r->pend[2], MX_PENDING_DNS);		/* unresolved.slow.test */
	assert_false(r->dns_error);
	assert_int_equal(r->mx_pending, 3);
	assert_int_equal(r->fails_at, 0);
	assert_int_equal(r->status, STATUS_UNKNOWN);
	r = result_of(&rs, "nomx.test");
	assert_true(r->deadline_hit);
	assert_string_equal(r->pending, "DNS MX");
	assert_int_equal(f->cancelled[K_FETCH], 1);
	assert_int_equal(f->cancelled[K_SMTP], 1);	/* own-mx only: pool.test goes on */
	assert_int_equal(f->cancelled[K_MX], 1);
	assert_int_equal(f->cancelled[K_ADDRS], 1);	/* the host only slow.test waited for */
	assert_int_equal(sweep_stats(sw)->deadlines, 2);
	assert_int_equal(sweep_in_flight(sw), 1);
	run_idle(f, sw, 5000);
	r = result_of(&rs, "other.test");
	assert_false(r->deadline_hit);
	assert_int_equal(r->smtp0, SMTP_OK);
	assert_int_equal(r->pend[0], MX_PENDING_NONE);
	assert_int_equal(count(f, K_SMTP, "pool.test"), 1);
	sweep_free(sw);
	fake_free(f);
}

/* ---- ending while busy ----------------------------------------------------------------------- */

/* Free with domains in flight, queued and finished-not-handed-back: no callback, no leak. */
static void test_free_busy(void **state)
{
	static const struct rule rules[] = { { K_SMTP, "pool.test", -1, false, 0, false } };
	struct fake *f = fake_new();
	struct sweep_opts o = opts(5);
	struct results rs = { .f = f };
	struct sweep_domain_opts dl = { 100, false };
	struct sweep *sw = sweep_new(f->lp, &f->cl, &o);
	char name[32];

	(void)state;
	f->rules = rules;
	f->n_rules = 1;
	for (int i = 0; i < 12; i++) {
		snprintf(name, sizeof(name), "b%d.test", i);
		sweep_add(sw, name, i == 0 ? &dl : NULL, on_done, &rs);
	}
	advance(f, 60);	/* DNS answered, the shared probe stalls */
	assert_int_equal(sweep_in_flight(sw), 5);
	assert_int_equal(sweep_queued(sw), 7);
	f->ms += 100;	/* b0's deadline is due: it finishes, the hand-back is not yet run */
	assert_int_equal(loop_run_once(f->lp, 0), 0);
	assert_true(f->n_live > 0);
	sweep_free(sw);
	assert_int_equal(rs.n, 0);
	assert_int_equal(f->n_live, 0);
	advance(f, 1000);
	assert_int_equal(rs.n, 0);
	fake_free(f);
}

/* Shutdown ends everything without callbacks and leaves a sweep that works again. */
static void test_shutdown_reuse(void **state)
{
	struct fake *f = fake_new();
	struct sweep_opts o = opts(2);
	struct results rs = { .f = f };
	struct sweep *sw = sweep_new(f->lp, &f->cl, &o);

	(void)state;
	sweep_add(sw, "p.test", NULL, on_done, &rs);
	sweep_add(sw, "q.test", NULL, on_done, &rs);
	sweep_add(sw, "r.test", NULL, on_done, &rs);
	advance(f, 20);
	sweep_shutdown(sw);
	assert_true(sweep_idle(sw));
	assert_int_equal(f->n_live, 0);
	advance(f, 1000);
	assert_int_equal(rs.n, 0);
	sweep_add(sw, "s.test", NULL, on_done, &rs);
	run_idle(f, sw, 5000);
	assert_int_equal(rs.n, 1);
	assert_string_equal(rs.v[0].domain, "s.test");
	sweep_free(sw);
	fake_free(f);
}

/* A done callback may free the sweep; nothing else is called back. */
static void test_free_in_callback(void **state)
{
	struct fake *f = fake_new();
	struct sweep_opts o = opts(4);
	struct results rs = { .f = f, .free_in_callback = true };

	(void)state;
	rs.sw = sweep_new(f->lp, &f->cl, &o);
	for (int i = 0; i < 6; i++) {
		char name[32];

		snprintf(name, sizeof(name), "c%d.test", i);
		sweep_add(rs.sw, name, NULL, on_done, &rs);
	}
	advance(f, 2000);
	assert_int_equal(rs.n, 1);
	assert_null(rs.sw);
	fake_free(f);
}

/* ---- the descriptor limit -------------------------------------------------------------------- */

static void test_fit_concurrency(void **state)
{
	(void)state;
	assert_int_equal(sweep_fit_concurrency(500, 1048576), 500);
	assert_int_equal(sweep_fit_concurrency(500, 1024), 240);	/* (1024 - 64) / 4 */
	assert_int_equal(sweep_fit_concurrency(500, 256), 48);
	assert_int_equal(sweep_fit_concurrency(10, 256), 10);
	assert_int_equal(sweep_fit_concurrency(500, 20), 1);
	assert_int_equal(sweep_fit_concurrency(0, 1024), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_fifo),
		cmocka_unit_test(test_on_room_streams),
		cmocka_unit_test(test_mx_shared_ttl),
		cmocka_unit_test(test_mx_shared_whole_sweep),
		cmocka_unit_test(test_local_fault_not_cached),
		cmocka_unit_test(test_mx_dns_retry),
		cmocka_unit_test(test_mx_dns_retry_gives_up),
		cmocka_unit_test(test_mx_dns_retry_deadline),
		cmocka_unit_test(test_mx_dns_loop_not_retried),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_free_busy),
		cmocka_unit_test(test_shutdown_reuse),
		cmocka_unit_test(test_free_in_callback),
		cmocka_unit_test(test_fit_concurrency),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * daemon: "stswatch run", the scheduler daemon under systemd: every configured domain
 * checked at its interval, phases spread and kept across restarts, domains that turn bad
 * re-checked quickly, alerts delivered continuously, the configuration reloaded on SIGHUP,
 * a bounded stop on SIGTERM, sd_notify for READY, STATUS, WATCHDOG, RELOADING, STOPPING.
 *
 * Everything runs on one loop: a min-heap of due times (entries are checked against the
 * domain's own due time when popped, so a rescheduled domain leaves a stale entry that is
 * simply skipped), one long-lived sweep fed as it has room, the deliverer, signals read
 * from a signalfd, and timers for the status line, the watchdog, the cycle (metrics file
 * and heartbeat), Alertmanager's re-send and the database's maintenance.
 */
#include "daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "alerting.h"
#include "clients.h"
#include "deliver.h"
#include "holdback.h"
#include "metrics.h"
#include "output.h"
#include "schedule.h"
#include "store.h"
#include "sweep.h"
#include "lib/curlm.h"
#include "lib/dynbuf.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/str.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

#define STATUS_EVERY_MS 5000
#define RECORD_TRIES 3		/* a busy database is tried again this often (200 ms each) */
#define RETRY_UNRECORDED 60	/* seconds before a domain that was not recorded is re-checked */
#define PRUNE_EVERY 86400
#define CHECKPOINT_EVERY 3600
#define MAINT_EVERY_MS 60000
#define PRUNE_STEP_MS 20
#define PHASE_POLL_MS 100
#define HEARTBEAT_TIMEOUT_MS 10000
#define HOLD_DEFAULT 300	/* seconds a domain waits for the vantage verdict, no retry_interval */

struct slot {
	time_t due;
	size_t dom;
};

/* A check in flight: the sweep's callback argument, one per domain at most. */
struct job {
	struct daemon *d;
	size_t dom;
	uint64_t started;
};

struct dom_state {
	struct schedule_entry se;
	int status;		/* enum status of the last check, -1 never checked */
	bool in_flight, retry;	/* in_flight also while it waits in the holdback */
	struct job job;		/* kept here: a check the stop or a reload ends costs nothing */
};

enum phase {
	P_RUN,		/* checking what is due */
	P_RELOAD,	/* draining before the new configuration takes over */
	P_STOP,		/* draining before the exit */
};

struct daemon {
	const char *config_path;
	const struct cli_common *cli;
	struct config cfg;
	struct config next;		/* validated, waiting for the drain of a reload */
	struct clients next_cl;
	char cfg_error[700];		/* the last reload's refusal, shown in STATUS= */
	struct loop *lp;
	struct clients cl;
	bool cl_open;
	struct sweep *sw;
	struct curlm *cm;
	struct deliver *dl;
	struct store *st;
	int64_t run_id;
	struct schedule_opts so;
	struct dom_state *ds;
	size_t n_ds;
	struct slot *heap;
	size_t n_heap, cap_heap;
	size_t counts[4], never;
	int sigfd;
	enum phase phase;
	uint64_t phase_deadline;
	struct loop_timer *t_tick, *t_watchdog, *t_status, *t_cycle, *t_sync, *t_maint, *t_phase,
			  *t_prune, *t_hold;
	uint64_t watchdog_usec;
	struct metrics_agent ag;
	struct vantage vt;
	struct holdback held;		/* checked, waiting for the verdict on port 25 */
	time_t cycle_start;
	size_t cycle_errors, cycle_checks;
	unsigned prune_table;
	long pruned;
	time_t last_prune, last_checkpoint;
	CURL *heartbeat;
	bool done;
};

static void tick(struct daemon *d);
static void arm_tick(struct daemon *d);

/* ---- the due heap ------------------------------------------------------------------- */

static void heap_push(struct daemon *d, time_t due, size_t dom)
{
	size_t i;

	if (d->n_heap == d->cap_heap) {
		d->cap_heap = d->cap_heap ? d->cap_heap * 2 : 256;
		d->heap = xrealloc(d->heap, d->cap_heap * sizeof(*d->heap));
	}
	i = d->n_heap++;
	while (i > 0 && d->heap[(i - 1) / 2].due > due) {
		d->heap[i] = d->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	d->heap[i].due = due;
	d->heap[i].dom = dom;
}

static struct slot heap_pop(struct daemon *d)
{
	struct slot top = d->heap[0], last = d->heap[--d->n_heap];
	size_t i = 0;

	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		time_t best = last.due;

		if (l < d->n_heap && d->heap[l].due < best) {
			m = l;
			best = d->heap[l].due;
		}
		if (r < d->n_heap && d->heap[r].due < best)
			m = r;
		if (m == i)
			break;
		d->heap[i] = d->heap[m];
		i = m;
	}
	if (d->n_heap)
		d->heap[i] = last;
	return top;
}

/* Drop stale entries from the top; the earliest real due time, 0 when none. */
static time_t heap_next(struct daemon *d)
{
	while (d->n_heap) {
		const struct slot *s = &d->heap[0];
		const struct dom_state *ds = &d->ds[s->dom];

		if (!ds->in_flight && ds->se.next_due == s->due)
			return s->due;
		heap_pop(d);
	}
	return 0;
}

/* ---- systemd ------------------------------------------------------------------------- */

/* "1,234": thousands grouped, as STATUS= is read by people. */
static const char *grouped(size_t n, char *buf, size_t len)
{
	char raw[32];
	size_t l, o = 0;

	bsnprintf(raw, sizeof(raw), "%zu", n);
	l = strlen(raw);
	for (size_t i = 0; i < l && o + 2 < len; i++) {
		if (i && (l - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = raw[i];
	}
	buf[o] = '\0';
	return buf;
}

static void update_status(struct daemon *d)
{
	struct dynbuf sb;
	size_t pending = 0, failed = 0;
	time_t next = heap_next(d), now = loop_wall(d->lp);
	char a[32];

	dynbuf_init(&sb, 1000);
	if (store_outbox_counts(d->st, &pending, &failed) < 0)
		log_warning("%s", store_error(d->st));
	dynbuf_printf(&sb, "STATUS=%s domains, %zu CRITICAL, %zu WARNING",
		      grouped(d->cfg.n_domains, a, sizeof(a)), d->counts[STATUS_CRITICAL],
		      d->counts[STATUS_WARNING]);
	if (d->counts[STATUS_UNKNOWN])
		dynbuf_printf(&sb, ", %zu UNKNOWN", d->counts[STATUS_UNKNOWN]);
	if (d->never)
		dynbuf_printf(&sb, ", %zu not checked yet", d->never);
	if (holdback_count(&d->held))
		dynbuf_printf(&sb, ", %zu waiting for the port 25 verdict",
			      holdback_count(&d->held));
	if (d->phase == P_STOP)
		dynbuf_printf(&sb, "; stopping");
	else if (d->phase == P_RELOAD)
		dynbuf_printf(&sb, "; reloading");
	else if (next)
		dynbuf_printf(&sb, "; next check in %lld s", (long long)(next > now ? next - now : 0));
	dynbuf_printf(&sb, "; outbox %zu pending", pending);
	if (failed)
		dynbuf_printf(&sb, ", %zu failed", failed);
	if (d->cfg_error[0])
		dynbuf_printf(&sb, "; reload refused: %s", d->cfg_error);
	sd_notify(0, sb.buf);
	dynbuf_free(&sb);
}

static void on_status(void *arg)
{
	struct daemon *d = arg;

	d->t_status = loop_timer_add(d->lp, STATUS_EVERY_MS, on_status, d);
	update_status(d);
}

/* From the loop itself: a loop that stops turning stops the pings and systemd restarts us. */
static void on_watchdog(void *arg)
{
	struct daemon *d = arg;

	sd_notify(0, "WATCHDOG=1");
	d->t_watchdog = loop_timer_add(d->lp, d->watchdog_usec / 2000, on_watchdog, d);
}

/* ---- the schedule ------------------------------------------------------------------ */

static int count_status(void *arg, const struct store_domain_row *r)
{
	struct daemon *d = arg;
	const struct domain_conf *dc = config_find_domain(&d->cfg, r->domain);
	int st;

	if (!dc)
		return 0;
	st = status_parse(r->status);
	d->ds[dc - d->cfg.domains].status = st < 0 ? STATUS_UNKNOWN : st;
	return 0;
}

/* Every configured domain's first due time, from what the database kept. */
static int build_schedule(struct daemon *d, size_t *added)
{
	time_t now = loop_wall(d->lp);

	free(d->ds);
	free(d->heap);
	d->heap = NULL;
	d->n_heap = d->cap_heap = 0;
	d->n_ds = d->cfg.n_domains;
	d->ds = xcalloc(d->n_ds ? d->n_ds : 1, sizeof(*d->ds));
	memset(d->counts, 0, sizeof(d->counts));
	d->never = 0;
	*added = 0;
	for (size_t i = 0; i < d->n_ds; i++) {
		const struct domain_conf *dc = &d->cfg.domains[i];
		struct schedule_entry kept = { 0 };

		d->ds[i].status = -1;
		if (store_schedule_get(d->st, dc->name, &kept.next_due, &kept.retries) < 0)
			return -1;
		*added += !kept.next_due;
		d->ds[i].se.retries = kept.retries;
		d->ds[i].se.next_due = schedule_first_due(&d->so, dc->name, dc->interval,
							  kept.next_due ? &kept : NULL, now);
		heap_push(d, d->ds[i].se.next_due, i);
	}
	if (store_each_domain(d->st, count_status, d) < 0)
		return -1;
	for (size_t i = 0; i < d->n_ds; i++) {
		if (d->ds[i].status < 0)
			d->never++;
		else
			d->counts[d->ds[i].status]++;
	}
	return 0;
}

/* How long one domain's check may take in all, its steps' timeouts added up. */
static unsigned check_deadline_ms(const struct config *cfg)
{
	uint64_t ms = 3ull * cfg->to.dns_ms * cfg->to.dns_tries + cfg->to.policy_ms +
		      cfg->to.smtp_connect_ms + 4ull * cfg->to.smtp_step_ms + 30000;

	return ms > 3600000 ? 3600000 : (unsigned)ms;
}

/* ---- one check ------------------------------------------------------------------------ */

/* The check, its alerts and its next due time in one transaction. */
static int record_one(struct daemon *d, const struct domain_conf *dc,
		      const struct domain_facts *df, const struct verdict *v, json_t *report,
		      time_t now, struct store_delta *delta, struct alerting_result *ar,
		      struct schedule_entry *se, bool *retry)
{
	bool unsettled;
	int rc = store_begin(d->st);

	if (rc < 0)
		return rc;
	if ((rc = store_record_check(d->st, d->run_id, df, v, report, delta)) < 0 ||
	    (rc = alerting_evaluate(&d->cfg, d->st, d->run_id, dc, df, v, report, now,
				    d->cfg.alerts.email_batch, ar)) < 0)
		goto fail;
	/* turned bad, or an alert waits to be confirmed: re-check it soon, afresh */
	unsettled = ar->unconfirmed || (strcmp(delta->new_status, "OK") != 0 &&
					strcmp(delta->new_status, delta->old_status) != 0);
	*retry = schedule_after_check(&d->so, dc->name, dc->interval, unsettled, now, se);
	if ((rc = store_schedule_put(d->st, dc->name, se->next_due, se->retries, now)) < 0)
		goto fail;
	if ((rc = store_commit(d->st)) < 0)
		goto fail_committed;
	return 0;
fail:
	store_rollback(d->st);
fail_committed:
	store_delta_free(delta);
	return rc;
}

/* Judge and record one domain's check, ended at ended_ms, under the vantage verdict now. */
static void judge_record(struct daemon *d, size_t dom, struct domain_facts *df,
			 uint64_t ended_ms)
{
	struct dom_state *ds = &d->ds[dom];
	const struct domain_conf *dc = &d->cfg.domains[dom];
	time_t now = loop_wall(d->lp);
	struct history h;
	struct verdict v;
	struct store_delta delta;
	struct alerting_result ar;
	struct schedule_entry se = ds->se;
	bool retry = false;
	json_t *report = NULL;
	int rc = STORE_ERROR;

	ds->in_flight = false;
	memset(&v, 0, sizeof(v));
	memset(&delta, 0, sizeof(delta));
	vantage_apply(&d->vt, df);
	if (store_load_history(d->st, dc->name, &h) == 0) {
		judge_domain(&dc->judge, df, &h, now, &v);
		report = output_json_domain(df, &v);
		for (int t = 0; t < RECORD_TRIES; t++) {
			rc = record_one(d, dc, df, &v, report, now, &delta, &ar, &se, &retry);
			if (rc != STORE_BUSY)
				break;
		}
		history_free(&h);
	}
	if (rc == 0) {
		if (ds->status < 0)
			d->never--;
		else
			d->counts[ds->status]--;
		ds->status = (int)v.status;
		d->counts[ds->status]++;
		ds->se = se;
		ds->retry = retry;
		alerting_log(dc->name, &delta, &ar);
		if (ar.queued)
			deliver_kick(d->dl);
		store_delta_free(&delta);
	} else {
		/* never lost: logged, counted (the heartbeat says /fail) and checked again soon */
		log_error("%s: not recorded: %s; checked again in %d s", dc->name,
			  store_error(d->st), RETRY_UNRECORDED);
		d->cycle_errors++;
		ds->se.next_due = now + RETRY_UNRECORDED;
	}
	heap_push(d, ds->se.next_due, dom);
	d->ag.checks++;
	d->cycle_checks++;
	d->ag.check_seconds += (double)(ended_ms - ds->job.started) / 1000.0;
	json_decref(report);
	verdict_free(&v);
	arm_tick(d);
}

/*
 * How long a domain whose MX addresses all refused waits for the verdict on port 25 at
 * most: retry_interval (at most an interval), the time a problem waits anyway for the
 * quick re-check that confirms it.
 */
static uint64_t hold_ms(const struct daemon *d)
{
	unsigned s = d->cfg.retry_interval ? d->cfg.retry_interval : HOLD_DEFAULT;

	if (d->cfg.interval && s > d->cfg.interval)
		s = d->cfg.interval;
	return (uint64_t)s * 1000;
}

static void on_hold(void *arg);

static void arm_hold(struct daemon *d)
{
	const struct held *o = holdback_oldest(&d->held);
	uint64_t now = loop_now(d->lp), until;

	loop_timer_cancel(d->lp, d->t_hold);
	d->t_hold = NULL;
	if (!o)
		return;
	until = o->since_ms + hold_ms(d);
	d->t_hold = loop_timer_add(d->lp, until > now ? until - now : 0, on_hold, d);
}

/* Judge what waited: all of it once the verdict is known, else what waited long enough. */
static void release_held(struct daemon *d)
{
	const struct held *o;
	struct held h;

	while ((o = holdback_oldest(&d->held)) &&
	       (vantage_smtp_known(&d->vt) || loop_now(d->lp) - o->since_ms >= hold_ms(d))) {
		holdback_take(&d->held, &h);
		if (!vantage_smtp_known(&d->vt))
			log_info("%s: judged %s after %llu s: only %zu MX addresses were tried, %d "
				 "are needed to tell whether this host's outbound port 25 is blocked",
				 d->cfg.domains[h.key].name, d->vt.smtp_blocked ?
				 "under the last verdict (port 25 blocked)" : "on its own",
				 (unsigned long long)(loop_now(d->lp) - h.since_ms) / 1000,
				 d->vt.n_smtp, VANTAGE_MIN_SMTP);
		judge_record(d, h.key, &h.df, h.since_ms);
		domain_facts_free(&h.df);
	}
	arm_hold(d);
}

static void on_hold(void *arg)
{
	struct daemon *d = arg;

	d->t_hold = NULL;
	release_held(d);
}

/* A stop or a reload: what still waits was not recorded, so it is still due. */
static void drop_held(struct daemon *d)
{
	size_t n = holdback_free(&d->held);

	loop_timer_cancel(d->lp, d->t_hold);
	d->t_hold = NULL;
	if (n)
		log_info("%zu checked domain%s that waited for the verdict on port 25 %s not "
			 "recorded: still due, checked again", n, n == 1 ? "" : "s",
			 n == 1 ? "was" : "were");
}

static void on_checked(void *arg, struct domain_facts *df)
{
	const struct job *job = arg;
	struct daemon *d = job->d;
	size_t dom = job->dom;

	if (vantage_feed(&d->vt, df)) {
		/* the verdict changed: remembered, and the operator told now, not at the next
		 * scan of the outbox */
		if (alerting_vantage(&d->cfg, d->st, d->run_id, &d->vt, loop_wall(d->lp)) < 0)
			log_error("%s", store_error(d->st));
		deliver_kick(d->dl);
	}
	/* every MX address refused while too few were tried to tell whether it is our own
	 * port 25: it waits (in_flight, so not scheduled) for the checks after it */
	if (vantage_hold(&d->vt, df, holdback_count(&d->held))) {
		log_debug("%s: no MX address accepted a connection; waiting up to %llu s for the "
			  "verdict on this host's port 25 (%zu of %d MX addresses tried)",
			  d->cfg.domains[dom].name, (unsigned long long)hold_ms(d) / 1000,
			  d->vt.n_smtp, VANTAGE_MIN_SMTP);
		holdback_put(&d->held, dom, df, loop_now(d->lp));
		if (holdback_count(&d->held) == 1) {
			arm_hold(d);
			update_status(d);	/* the first to wait is shown at once */
		}
		return;
	}
	if (vantage_smtp_known(&d->vt))
		release_held(d);
	judge_record(d, dom, df, loop_now(d->lp));
}

static void start_check(struct daemon *d, size_t dom)
{
	struct job *job = &d->ds[dom].job;
	struct sweep_domain_opts o = { .deadline_ms = check_deadline_ms(&d->cfg),
				       .fresh = d->ds[dom].retry };

	job->d = d;
	job->dom = dom;
	job->started = loop_now(d->lp);
	d->ds[dom].in_flight = true;
	if (d->ds[dom].retry)
		log_debug("%s: re-checking (quick re-check %u)", d->cfg.domains[dom].name,
			  d->ds[dom].se.retries);
	sweep_add(d->sw, d->cfg.domains[dom].name, &o, on_checked, job);
}

/* Start what is due while the sweep has room; the rest waits for room or its time. */
static void tick(struct daemon *d)
{
	time_t now = loop_wall(d->lp), next;

	if (d->phase != P_RUN)
		return;
	while ((next = heap_next(d)) && next <= now &&
	       sweep_in_flight(d->sw) + sweep_queued(d->sw) < sweep_concurrency(d->sw)) {
		struct slot s = heap_pop(d);

		start_check(d, s.dom);
	}
	arm_tick(d);
}

static void on_tick(void *arg)
{
	struct daemon *d = arg;

	d->t_tick = NULL;
	tick(d);
}

static void arm_tick(struct daemon *d)
{
	time_t now = loop_wall(d->lp), next = heap_next(d);
	uint64_t ms = 60000;

	if (d->phase != P_RUN)
		return;
	if (next)
		ms = next <= now ? 0 : (uint64_t)(next - now) * 1000 > 60000 ? 60000 :
		     (uint64_t)(next - now) * 1000;
	loop_timer_cancel(d->lp, d->t_tick);
	d->t_tick = loop_timer_add(d->lp, ms, on_tick, d);
}

static void on_room(void *arg, struct sweep *sw, unsigned room)
{
	struct daemon *d = arg;

	(void)sw;
	(void)room;
	tick(d);
}

/* ---- the cycle: metrics and heartbeat ------------------------------------------------------ */

static void on_heartbeat(void *arg, CURL *easy, CURLcode rc)
{
	struct daemon *d = arg;
	long code = 0;

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK || code < 200 || code >= 300)
		log_warning("heartbeat: %s", rc != CURLE_OK ? curl_easy_strerror(rc) :
			    "the service did not answer 2xx");
	curl_easy_cleanup(easy);
	d->heartbeat = NULL;
}

static size_t discard(char *p, size_t s, size_t n, void *u)
{
	(void)p;
	(void)u;
	return s * n;
}

static void ping(struct daemon *d, bool ok)
{
	char url[1100];

	if (!d->cfg.heartbeat_url || d->heartbeat)
		return;
	bsnprintf(url, sizeof(url), "%s%s", d->cfg.heartbeat_url, ok ? "" : "/fail");
	d->heartbeat = curl_easy_init();
	if (!d->heartbeat)
		return;
	curl_easy_setopt(d->heartbeat, CURLOPT_URL, url);
	curl_easy_setopt(d->heartbeat, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(d->heartbeat, CURLOPT_TIMEOUT_MS, (long)HEARTBEAT_TIMEOUT_MS);
	curl_easy_setopt(d->heartbeat, CURLOPT_PROXY, "");
	curl_easy_setopt(d->heartbeat, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(d->heartbeat, CURLOPT_WRITEFUNCTION, discard);
	if (d->cfg.ca_file)
		curl_easy_setopt(d->heartbeat, CURLOPT_CAINFO, d->cfg.ca_file);
	if (curlm_add(d->cm, d->heartbeat, on_heartbeat, d) < 0) {
		curl_easy_cleanup(d->heartbeat);
		d->heartbeat = NULL;
	}
}

static void write_metrics(struct daemon *d)
{
	char err[700];

	if (d->cfg.metrics_file &&
	    metrics_update_file(d->st, &d->cfg, &d->ag, d->cfg.metrics_file, err, sizeof(err)) < 0)
		log_warning("metrics: %s", err);
}

static void on_cycle(void *arg)
{
	struct daemon *d = arg;
	time_t now = loop_wall(d->lp);
	size_t overdue = 0;

	d->t_cycle = loop_timer_add(d->lp, (uint64_t)d->cfg.interval * 1000, on_cycle, d);
	/* behind by more than an interval: the monitor cannot keep up (or was stuck) */
	for (size_t i = 0; i < d->n_ds; i++)
		overdue += !d->ds[i].in_flight && d->ds[i].se.next_due + (time_t)d->cfg.interval < now;
	d->ag.last_cycle = now;
	d->ag.last_cycle_seconds = difftime(now, d->cycle_start);
	write_metrics(d);
	ping(d, !d->cycle_errors && !overdue);
	log_info("cycle: %zu checks, %zu not recorded, %zu overdue; %zu CRITICAL, %zu WARNING, "
		 "%zu UNKNOWN, %zu OK", d->cycle_checks, d->cycle_errors, overdue,
		 d->counts[STATUS_CRITICAL], d->counts[STATUS_WARNING], d->counts[STATUS_UNKNOWN],
		 d->counts[STATUS_OK]);
	d->cycle_start = now;
	d->cycle_checks = d->cycle_errors = 0;
}

static void on_sync(void *arg)
{
	struct daemon *d = arg;

	d->t_sync = loop_timer_add(d->lp, (uint64_t)d->cfg.alerts.alertmanager_resend * 1000,
				   on_sync, d);
	if (d->phase == P_RUN)
		deliver_alertmanager_sync(d->dl);
}

/* ---- the database's upkeep: pruning in small steps, WAL checkpoints ---------------------- */

static void on_prune_step(void *arg)
{
	struct daemon *d = arg;
	int rc;

	d->t_prune = NULL;
	rc = store_prune_step(d->st, d->cfg.retention_days, loop_wall(d->lp), &d->prune_table,
			      &d->pruned);
	if (rc > 0 && d->phase == P_RUN) {
		d->t_prune = loop_timer_add(d->lp, PRUNE_STEP_MS, on_prune_step, d);
		return;
	}
	if (rc < 0)
		log_warning("pruning: %s", store_error(d->st));
	else if (d->pruned)
		log_info("pruned %ld rows older than %u days", d->pruned, d->cfg.retention_days);
}

static void on_maint(void *arg)
{
	struct daemon *d = arg;
	time_t now = loop_wall(d->lp);

	d->t_maint = loop_timer_add(d->lp, MAINT_EVERY_MS, on_maint, d);
	if (now - d->last_checkpoint >= CHECKPOINT_EVERY) {
		d->last_checkpoint = now;
		if (store_checkpoint(d->st) < 0)
			log_warning("%s", store_error(d->st));
	}
	if (d->phase == P_RUN) {
		size_t digests = 0;

		if (alerting_digests(&d->cfg, d->st, d->run_id, now, &digests) < 0)
			log_error("digests: %s", store_error(d->st));
		if (digests)
			deliver_kick(d->dl);
	}
	if (now - d->last_prune >= PRUNE_EVERY && !d->t_prune && d->phase == P_RUN) {
		d->last_prune = now;
		d->prune_table = 0;
		d->pruned = 0;
		d->t_prune = loop_timer_add(d->lp, 0, on_prune_step, d);
	}
}

/* ---- reload and stop --------------------------------------------------------------------- */

/* Read and check the configuration a reload would switch to; 0, or -1 with err. */
static int load_next(struct daemon *d, struct config *next, struct clients *cl, char *err,
		     size_t errlen)
{
	struct clients_opts co;
	const struct cli_common *c = d->cli;

	config_defaults(next);
	if (config_load(next, d->config_path, err, errlen) < 0)
		goto fail;
	if (c->resolver) {
		free(next->resolver);
		next->resolver = xstrdup(c->resolver);
	}
	if (c->ca_file) {
		free(next->ca_file);
		next->ca_file = xstrdup(c->ca_file);
	}
	if (c->db) {
		free(next->database);
		next->database = xstrdup(c->db);
	}
	if (c->concurrency)
		next->concurrency = (unsigned)c->concurrency;
	if (strcmp(next->database, d->cfg.database) != 0) {
		bsnprintf(err, errlen, "database changed from %s to %s: that needs a restart",
			  d->cfg.database, next->database);
		goto fail;
	}
	/* the CA file and the resolver are tried now, so a bad one is refused, not fatal */
	clients_opts_from_config(&co, next);
	if (clients_open(cl, d->lp, &co, err, errlen) < 0)
		goto fail;
	return 0;
fail:
	config_free(next);
	return -1;
}

static void begin_reload(struct daemon *d)
{
	char err[700];

	if (d->phase != P_RUN)
		return;
	if (load_next(d, &d->next, &d->next_cl, err, sizeof(err)) < 0) {
		log_error("reload refused, still running on the previous configuration: %s", err);
		strlcpy_s(d->cfg_error, err, sizeof(d->cfg_error));
		update_status(d);
		return;
	}
	d->cfg_error[0] = '\0';
	sd_notify(0, "RELOADING=1\nSTATUS=reloading the configuration");
	log_info("reloading %s: letting %u checks in flight finish", d->config_path,
		 sweep_in_flight(d->sw));
	d->phase = P_RELOAD;
	d->phase_deadline = loop_now(d->lp) + (uint64_t)d->cfg.shutdown_timeout * 1000;
	deliver_stop(d->dl);
	loop_timer_cancel(d->lp, d->t_tick);
	d->t_tick = NULL;
}

static int open_checking(struct daemon *d)
{
	struct sweep_opts so;
	char err[300];

	sweep_opts_from_config(&so, &d->cfg);
	so.concurrency = sweep_concurrency_for_limit(so.concurrency);
	/* an MX host serves other domains for an interval (at most an hour), as a cycle */
	so.host_ttl_ms = (uint64_t)(d->cfg.interval < 3600 ? d->cfg.interval : 3600) * 1000;
	d->sw = sweep_new(d->lp, &d->cl, &so);
	sweep_on_room(d->sw, on_room, d);
	d->cm = curlm_new(d->lp, err, sizeof(err));
	if (!d->cm) {
		log_error("cannot start libcurl: %s", err);
		return -1;
	}
	d->dl = deliver_new(d->lp, d->cm, d->st, &d->cfg);
	schedule_opts_defaults(&d->so);
	d->so.retry_interval = d->cfg.retry_interval;
	d->so.confirm = d->cfg.alerts.confirm;
	return 0;
}

static void close_checking(struct daemon *d)
{
	deliver_free(d->dl);
	d->dl = NULL;
	if (d->heartbeat) {
		curlm_cancel(d->cm, d->heartbeat);
		curl_easy_cleanup(d->heartbeat);
		d->heartbeat = NULL;
	}
	curlm_free(d->cm);
	d->cm = NULL;
	sweep_free(d->sw);
	d->sw = NULL;
}

static void finish_reload(struct daemon *d)
{
	size_t before = d->cfg.n_domains, added = 0;

	close_checking(d);
	clients_close(&d->cl);
	d->cl = d->next_cl;
	memset(&d->next_cl, 0, sizeof(d->next_cl));
	config_free(&d->cfg);
	d->cfg = d->next;
	memset(&d->next, 0, sizeof(d->next));
	if (d->cfg.log_level >= 0)
		log_init((enum log_level)d->cfg.log_level, false);
	if (open_checking(d) < 0 || build_schedule(d, &added) < 0) {
		log_error("after the reload: %s; stopping (systemd restarts the service)",
			  store_error(d->st));
		d->done = true;
		return;
	}
	d->phase = P_RUN;
	loop_timer_cancel(d->lp, d->t_cycle);
	d->t_cycle = loop_timer_add(d->lp, (uint64_t)d->cfg.interval * 1000, on_cycle, d);
	log_info("configuration reloaded: %zu domains (%zu before; %zu never checked, due within "
		 "a minute)", d->cfg.n_domains, before, added);
	sd_notify(0, "READY=1");
	update_status(d);
	tick(d);
}

static void begin_stop(struct daemon *d, int sig)
{
	if (d->phase == P_STOP)
		return;
	if (d->phase == P_RELOAD) {
		clients_close(&d->next_cl);
		config_free(&d->next);
	}
	d->phase = P_STOP;
	d->phase_deadline = loop_now(d->lp) + (uint64_t)d->cfg.shutdown_timeout * 1000;
	sd_notify(0, "STOPPING=1\nSTATUS=stopping: letting the checks in flight finish");
	log_info("%s: stopping; %u checks in flight get %u s to finish", strsignal(sig),
		 sweep_in_flight(d->sw), d->cfg.shutdown_timeout);
	deliver_stop(d->dl);
	loop_timer_cancel(d->lp, d->t_tick);
	d->t_tick = NULL;
}

/* While draining: done when nothing is in flight, or at the deadline whatever is. */
static void on_phase(void *arg)
{
	struct daemon *d = arg;
	bool drained, late;

	d->t_phase = loop_timer_add(d->lp, PHASE_POLL_MS, on_phase, d);
	if (d->phase == P_RUN)
		return;
	drained = sweep_in_flight(d->sw) == 0 && deliver_in_flight(d->dl) == 0;
	late = loop_now(d->lp) >= d->phase_deadline;
	if (!drained && !late)
		return;
	if (!drained)
		log_warning("%u checks and %u deliveries did not finish within %u s: ended, not "
			    "recorded (their alerts stay in the outbox)", sweep_in_flight(d->sw),
			    deliver_in_flight(d->dl), d->cfg.shutdown_timeout);
	sweep_shutdown(d->sw);
	drop_held(d);
	for (size_t i = 0; i < d->n_ds; i++)
		d->ds[i].in_flight = false;
	if (d->phase == P_STOP)
		d->done = true;
	else
		finish_reload(d);
}

static void on_signal(void *arg, int fd, unsigned events)
{
	struct daemon *d = arg;
	struct signalfd_siginfo si;

	(void)events;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			begin_reload(d);
		else
			begin_stop(d, (int)si.ssi_signo);
	}
}

/* ---- start and end ------------------------------------------------------------------------- */

static int open_signals(struct daemon *d)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -1;
	d->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sigfd < 0)
		return -1;
	return loop_io(d->lp, d->sigfd, LOOP_READ, on_signal, d);
}

static void cancel_timers(struct daemon *d)
{
	struct loop_timer **all[] = { &d->t_tick, &d->t_watchdog, &d->t_status, &d->t_cycle,
				      &d->t_sync, &d->t_maint, &d->t_phase, &d->t_prune, &d->t_hold };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		loop_timer_cancel(d->lp, *all[i]);
		*all[i] = NULL;
	}
}

int daemon_run(struct config *cfg, const char *config_path, const struct cli_common *c)
{
	struct daemon dm, *d = &dm;
	struct clients_opts co;
	char err[700];
	size_t added = 0;
	int rc = 1;
	bool am = false;

	memset(d, 0, sizeof(*d));
	d->sigfd = -1;
	d->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));	/* ours now */
	d->config_path = config_path;
	d->cli = c;
	/* journald's priority prefixes only when stderr is the stream JOURNAL_STREAM names */
	log_journal_prefix(log_stderr_is_journal());
	log_init(d->cfg.log_level >= 0 ? (enum log_level)d->cfg.log_level : LOG_LVL_INFO, false);
	d->st = store_open(d->cfg.database, STORE_RUNNER, err, sizeof(err));
	if (!d->st) {
		log_error("%s", err);
		goto out;
	}
	d->lp = loop_new(NULL);
	if (!d->lp || open_signals(d) < 0) {
		log_error("cannot set up the event loop or the signals: %s", strerror(errno));
		goto out;
	}
	clients_opts_from_config(&co, &d->cfg);
	if (clients_open(&d->cl, d->lp, &co, err, sizeof(err)) < 0) {
		log_error("%s", err);
		goto out;
	}
	d->cl_open = true;
	if (open_checking(d) < 0)
		goto out;
	if (store_run_start(d->st, "daemon", loop_wall(d->lp), &d->run_id) < 0 ||
	    build_schedule(d, &added) < 0) {
		log_error("%s", store_error(d->st));
		goto out;
	}
	vantage_init(&d->vt);
	holdback_init(&d->held);
	alerting_vantage_seed(d->st, &d->vt);
	d->ag.started = d->cycle_start = loop_wall(d->lp);
	d->last_checkpoint = d->cycle_start;
	d->last_prune = d->cycle_start - PRUNE_EVERY + 600;	/* the first prune after 10 min */
	if (sd_watchdog_enabled(0, &d->watchdog_usec) > 0 && d->watchdog_usec >= 2000)
		d->t_watchdog = loop_timer_add(d->lp, d->watchdog_usec / 2000, on_watchdog, d);
	d->t_status = loop_timer_add(d->lp, STATUS_EVERY_MS, on_status, d);
	d->t_cycle = loop_timer_add(d->lp, (uint64_t)d->cfg.interval * 1000, on_cycle, d);
	d->t_maint = loop_timer_add(d->lp, MAINT_EVERY_MS, on_maint, d);
	d->t_phase = loop_timer_add(d->lp, PHASE_POLL_MS, on_phase, d);
	for (size_t i = 0; i < d->cfg.n_receivers; i++)
		am |= strcmp(d->cfg.receivers[i].type, "alertmanager") == 0;
	if (am)
		d->t_sync = loop_timer_add(d->lp, 0, on_sync, d);
	log_info("watching %zu domains (%zu never checked, due within a minute); database %s",
		 d->cfg.n_domains, added, d->cfg.database);
	sd_notify(0, "READY=1");
	update_status(d);
	tick(d);
	while (!d->done)
		if (loop_run_once(d->lp, 1000) < 0 && errno != EINTR) {
			log_error("the event loop failed: %s", strerror(errno));
			goto out;
		}
	rc = 0;
out:
	if (d->lp)
		cancel_timers(d);
	if (d->sw)
		sweep_shutdown(d->sw);
	holdback_free(&d->held);
	close_checking(d);
	if (d->cl_open)
		clients_close(&d->cl);
	if (d->st && d->run_id && store_run_finish(d->st, d->run_id, time(NULL)) < 0)
		log_warning("%s", store_error(d->st));
	if (d->sigfd >= 0) {
		loop_io(d->lp, d->sigfd, 0, NULL, NULL);
		close(d->sigfd);
	}
	loop_free(d->lp);
	store_close(d->st);
	free(d->ds);
	free(d->heap);
	config_free(&d->cfg);
	if (rc == 0)
		log_info("stopped");
	return rc;
}

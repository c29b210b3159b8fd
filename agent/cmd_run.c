/* cmd_run: "stswatch run --once": check the due domains and record them, for a timer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "clients.h"
#include "commands.h"
#include "alerting.h"
#include "config.h"
#include "daemon.h"
#include "deliver.h"
#include "holdback.h"
#include "inorder.h"
#include "metrics.h"
#include "output.h"
#include "store.h"
#include "sweep.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

#define DUE_SLACK 60	/* a timer that fires a little early still finds the domain due */

enum { OPT_ONCE = 4000, OPT_ALL, OPT_QUIET = 'q' };

struct run_state {
	const struct config *cfg;
	const struct domain_conf **due;
	size_t n_due;
	struct store *st;
	int64_t run_id;
	struct summary summary;
	bool quiet;
	size_t unrecorded;	/* domains checked but not recorded (each logged) */
	size_t queued;		/* notifications queued */
	struct vantage vt;	/* is the monitor's own view sound (port 25, the resolver)? */
	struct holdback held;	/* domains waiting for the verdict on port 25 */
	size_t unheld;		/* of them, judged with too few MX addresses tried to tell */
	struct deliver_stats delivery;
	size_t delivery_pending;
	struct metrics_agent ag;	/* for metrics_file */
	char first_error[640];
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: stswatch run [options]          the scheduler daemon, in the foreground\n"
		"       stswatch run --once [options]   one pass, for a systemd timer\n"
		"The daemon checks every configured domain at its interval (phases spread by a hash\n"
		"of the name and kept across restarts), re-checks a domain that turned bad after\n"
		"retry_interval, delivers alerts as they come, reloads the configuration on SIGHUP\n"
		"and stops within shutdown_timeout on SIGTERM (sd_notify: READY, STATUS, WATCHDOG,\n"
		"RELOADING, STOPPING). --once checks every domain that is due (its interval has\n"
		"passed since its last check), records each as it completes, delivers the alerts\n"
		"that are due and prints one line per domain. The exit status says whether the run\n"
		"completed, not what it found (use status, or the plugin, for that).\n"
		"\n"
		"  -c, --config FILE      configuration (default " CONFIG_DEFAULT_PATH ")\n"
		"      --db FILE          database (default: the configuration's, else\n"
		"                         " CONFIG_DEFAULT_DB ")\n"
		"      --once             run once and exit\n"
		"      --all              check every domain, due or not\n"
		"      --resolver ADDR[:PORT][,...], --ca-file FILE, --concurrency N\n"
		"  -q, --quiet            print only the closing summary\n"
		"  -h, --help             this help\n"
		"\n"
		"Exit status: 0 the run completed and every domain was recorded; 1 it did not\n"
		"(configuration, database in use by another run, disk full, a domain that could not\n"
		"be recorded: the message says which). Each domain is recorded as it completes.\n");
}

static const char *due_name(void *arg, size_t idx)
{
	struct run_state *r = arg;

	return r->due[idx]->name;
}

/* "example.org  CRITICAL  enforce  fails now  mx.cert.expired mx1.example.org[ip] (+2)" */
static void one_line(const struct domain_facts *df, const struct verdict *v, time_t now)
{
	char fails[40] = "-";
	const struct finding *top = NULL;
	size_t shown = 0;

	if (v->fails_at)
		bsnprintf(fails, sizeof(fails), "%s", v->fails_at <= now ? "now" :
			  time_rfc3339(v->fails_at, (char[32]){ 0 }, 32));
	for (size_t i = 0; i < v->findings.n; i++)
		if (v->findings.v[i].sev != SEV_INFO) {
			if (!top)
				top = &v->findings.v[i];
			shown++;
		}
	printf("%-32s %-8s %-7s fails %-20s", df->domain, status_str(v->status),
	       v->mode ? policy_mode_str(v->mode) : "-", fails);
	if (top)
		printf("  %s %s", finding_code_str(top->code), top->subject);
	if (shown > 1)
		printf(" (+%zu more)", shown - 1);
	putchar('\n');
}

/* A domain that cannot be recorded is logged and counted; the others still are. */
static void unrecorded(struct run_state *r, const char *domain)
{
	log_error("%s: not recorded: %s", domain, store_error(r->st));
	if (!r->unrecorded++)
		strlcpy_s(r->first_error, store_error(r->st), sizeof(r->first_error));
}

/*
 * After the checks: deliver what is due, one attempt each, Alertmanager's firing alerts
 * re-sent, within a bound (twice the longest receiver timeout); what is left stays pending
 * for the next run.
 */
static void deliver_due(const struct config *cfg, struct loop *lp, struct store *st,
			struct deliver_stats *out)
{
	struct curlm *cm;
	struct deliver *d;
	unsigned longest = cfg->alerts.timeout_ms;
	uint64_t until;
	char err[256];

	memset(out, 0, sizeof(*out));
	if (!cfg->n_receivers)
		return;
	cm = curlm_new(lp, err, sizeof(err));
	if (!cm) {
		log_error("alerts: cannot start libcurl: %s (notifications stay pending)", err);
		return;
	}
	for (size_t i = 0; i < cfg->n_receivers; i++)
		if (cfg->receivers[i].timeout_ms > longest)
			longest = cfg->receivers[i].timeout_ms;
	d = deliver_new(lp, cm, st, cfg);
	deliver_alertmanager_sync(d);
	until = loop_now(lp) + 2ull * longest + 2000;
	/* one round of attempts: a retry is due at least 30 s later, the next run's business */
	loop_run_once(lp, 0);
	while (loop_now(lp) < until && !deliver_idle(d, loop_wall(lp)))
		if (loop_run_once(lp, 200) < 0)
			break;
	*out = *deliver_stats(d);
	if (deliver_in_flight(d))
		log_warning("alerts: %u deliveries did not end within %llu s; they stay pending",
			    deliver_in_flight(d), (unsigned long long)(2ull * longest + 2000) / 1000);
	deliver_free(d);
	curlm_free(cm);
}

/* Judge, record and print one domain (its check ended at ended) under the vantage verdict. */
static void judge_one(struct run_state *r, size_t idx, struct domain_facts *df, time_t ended)
{
	const struct domain_conf *d = r->due[idx];
	struct history h;
	struct verdict v;
	struct store_delta delta;
	struct alerting_result ar;
	json_t *report;
	time_t now = time(NULL);

	if (store_load_history(r->st, df->domain, &h) < 0) {
		/* judged without its history, a verdict would be quieter than the truth */
		unrecorded(r, df->domain);
		return;
	}
	vantage_apply(&r->vt, df);
	judge_domain(&d->judge, df, &h, now, &v);
	report = output_json_domain(df, &v);
	/* one transaction per domain: what was checked is kept as it completes, with the
	 * notifications it gives */
	if (alerting_record(r->cfg, r->st, r->run_id, d, df, &v, report, now, 0, &delta, &ar) < 0) {
		unrecorded(r, df->domain);
	} else {
		alerting_log(df->domain, &delta, &ar);
		r->queued += ar.queued;
		r->ag.checks++;
		r->ag.check_seconds += difftime(ended, df->checked_at);
		store_delta_free(&delta);
	}
	summary_add(&r->summary, v.status, df->domain);
	if (!r->quiet)
		one_line(df, &v, now);
	fflush(stdout);
	json_decref(report);
	verdict_free(&v);
	history_free(&h);
}

/*
 * The domains that waited for the verdict on port 25, oldest first: once it is known, or
 * at the end of the run with what is known then.
 */
static void release_held(struct run_state *r)
{
	struct held h;

	while (holdback_take(&r->held, &h)) {
		if (!vantage_smtp_known(&r->vt))
			r->unheld++;
		judge_one(r, h.key, &h.df, (time_t)(h.since_ms / 1000));
		domain_facts_free(&h.df);
	}
}

static bool on_result(void *arg, size_t idx, struct domain_facts *df)
{
	struct run_state *r = arg;

	if (vantage_feed(&r->vt, df) &&
	    alerting_vantage(r->cfg, r->st, r->run_id, &r->vt, time(NULL)) < 0)
		log_error("%s", store_error(r->st));
	/* every MX address refused while too few were tried to tell whether it is our own
	 * port 25: judged once the addresses of the domains after it tell (the facts are
	 * kept, the domain is not probed again) */
	if (vantage_hold(&r->vt, df, holdback_count(&r->held))) {
		log_debug("%s: no MX address accepted a connection; waiting for the verdict on "
			  "this host's port 25 (%zu of %d MX addresses tried)", df->domain,
			  r->vt.n_smtp, VANTAGE_MIN_SMTP);
		holdback_put(&r->held, idx, df, (uint64_t)time(NULL) * 1000);
		return true;
	}
	if (vantage_smtp_known(&r->vt))
		release_held(r);
	judge_one(r, idx, df, time(NULL));
	return true;
}

int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "db", required_argument, NULL, OPT_DB },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "verbose", no_argument, NULL, OPT_VERBOSE },
		{ "resolver", required_argument, NULL, OPT_RESOLVER },
		{ "ca-file", required_argument, NULL, OPT_CA_FILE },
		{ "concurrency", required_argument, NULL, OPT_CONCURRENCY },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_common c = { 0 };
	struct config cfg;
	struct run_state r = { 0 };
	struct clients_opts co;
	struct clients cl = { 0 };
	struct sweep_opts so;
	struct loop *lp = NULL;
	struct sweep *sw = NULL;
	const struct sweep_stats *stats;
	bool once = false, all = false;
	char err[512];
	time_t now, started;
	uint64_t t0;
	long pruned = 0;
	int opt, rc = 1;

	config_defaults(&cfg);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:vqh", longopts, NULL)) != -1) {
		int k = cli_common_opt(&c, opt, optarg, "run");

		if (k < 0)
			goto out;
		if (k > 0)
			continue;
		switch (opt) {
		case OPT_ONCE:
			once = true;
			break;
		case OPT_ALL:
			all = true;
			break;
		case OPT_QUIET:
			r.quiet = true;
			break;
		case OPT_HELP:
			usage(stdout);
			rc = 0;
			goto out;
		default:
			usage(stderr);
			goto out;
		}
	}
	if (optind < argc) {
		cli_error("run", "unexpected argument \"%s\" (domains come from the configuration)",
			  argv[optind]);
		goto out;
	}
	if (!once && all) {
		cli_error("run", "--all goes with --once; the daemon checks each domain at its interval");
		goto out;
	}
	if (cli_load_config(&cfg, &c, true) < 0)
		goto out;
	if (!once) {
		/* the daemon: in the foreground, until SIGTERM; reloads read the same file */
		char *path = xstrdup(cfg.path);

		rc = daemon_run(&cfg, path, &c);
		free(path);
		goto out;
	}
	r.cfg = &cfg;
	r.st = store_open(cfg.database, STORE_RUNNER, err, sizeof(err));
	if (!r.st) {
		cli_error("run", "%s", err);
		goto out;
	}
	now = started = time(NULL);
	t0 = mono_ms();
	r.due = xcalloc(cfg.n_domains ? cfg.n_domains : 1, sizeof(*r.due));
	for (size_t i = 0; i < cfg.n_domains; i++) {
		time_t last;

		if (store_last_checked(r.st, cfg.domains[i].name, &last) < 0) {
			cli_error("run", "%s", store_error(r.st));
			goto out;
		}
		if (all || !last || now + DUE_SLACK >= last + (time_t)cfg.domains[i].interval)
			r.due[r.n_due++] = &cfg.domains[i];
	}
	vantage_init(&r.vt);
	holdback_init(&r.held);
	alerting_vantage_seed(r.st, &r.vt);
	if (store_run_start(r.st, "run", now, &r.run_id) < 0) {
		cli_error("run", "%s", store_error(r.st));
		goto out;
	}
	lp = loop_new(NULL);
	if (!lp) {
		cli_error("run", "cannot create the event loop");
		goto out;
	}
	clients_opts_from_config(&co, &cfg);
	if (clients_open(&cl, lp, &co, err, sizeof(err)) < 0) {
		cli_error("run", "%s", err);
		goto out;
	}
	sweep_opts_from_config(&so, &cfg);
	so.concurrency = sweep_concurrency_for_limit(so.concurrency);
	sw = sweep_new(lp, &cl, &so);
	if (inorder_run(lp, sw, r.n_due, due_name, on_result, &r, 0) < 0) {
		cli_error("run", "event loop failed");
		goto out;
	}
	/* what still waits is judged with the best verdict there is: a list with too few MX
	 * addresses to tell says nothing of this host's port 25 */
	release_held(&r);
	if (r.unheld)
		log_info("%zu domain%s whose MX addresses all refused the connection %s judged "
			 "%s: only %zu MX addresses were tried, %d are needed to tell whether this "
			 "host's outbound port 25 is blocked", r.unheld, r.unheld == 1 ? "" : "s",
			 r.unheld == 1 ? "was" : "were", r.vt.smtp_blocked ?
			 "under the previous run's verdict (blocked)" : "on their own",
			 r.vt.n_smtp, VANTAGE_MIN_SMTP);
	stats = sweep_stats(sw);
	{
		size_t digests = 0;

		if (alerting_digests(&cfg, r.st, r.run_id, time(NULL), &digests) < 0)
			log_error("digests: %s", store_error(r.st));
		r.queued += digests;
	}
	deliver_due(&cfg, lp, r.st, &r.delivery);
	if (store_run_finish(r.st, r.run_id, time(NULL)) < 0)
		log_warning("%s", store_error(r.st));
	if (store_prune(r.st, cfg.retention_days, time(NULL), &pruned) < 0)
		log_warning("pruning old rows: %s", store_error(r.st));
	/* the same metrics file the daemon writes after each cycle, for a timer's runs */
	r.ag.started = started;
	r.ag.last_cycle = time(NULL);
	r.ag.last_cycle_seconds = (double)(mono_ms() - t0) / 1000.0;
	if (cfg.metrics_file &&
	    metrics_update_file(r.st, &cfg, &r.ag, cfg.metrics_file, err, sizeof(err)) < 0)
		log_warning("metrics: %s", err);
	printf("run %s: %zu of %zu domains due and checked in %.1f s (%zu MX hosts probed, %zu "
	       "shared); %zu OK, %zu WARNING, %zu CRITICAL, %zu UNKNOWN; %ld old rows pruned\n",
	       time_rfc3339(started, (char[32]){ 0 }, 32), r.n_due, cfg.n_domains,
	       (double)(mono_ms() - t0) / 1000.0, stats->mx_hosts_probed, stats->mx_cache_hits,
	       r.summary.counts[STATUS_OK], r.summary.counts[STATUS_WARNING],
	       r.summary.counts[STATUS_CRITICAL], r.summary.counts[STATUS_UNKNOWN], pruned);
	if (cfg.n_receivers) {
		size_t failed_rows = 0;

		if (store_outbox_counts(r.st, &r.delivery_pending, &failed_rows) < 0)
			log_warning("%s", store_error(r.st));
	}
	if (cfg.n_receivers)
		printf("alerts: %zu queued, %zu sent, %zu to retry, %zu failed, %zu expired; %zu "
		       "pending in the outbox\n", r.queued, r.delivery.sent, r.delivery.retried,
		       r.delivery.failed + r.delivery.disabled, r.delivery.expired,
		       r.delivery_pending);
	if (r.unrecorded) {
		cli_error("run", "%zu of %zu checked domains were not recorded (each is logged "
			  "above); the first: %s", r.unrecorded, r.n_due, r.first_error);
		goto out;
	}
	rc = 0;
out:
	/* after a failure: not recorded, so due and checked again at the next run */
	holdback_free(&r.held);
	sweep_free(sw);
	clients_close(&cl);
	loop_free(lp);
	summary_free(&r.summary);
	free(r.due);
	store_close(r.st);
	config_free(&cfg);
	return rc;
}

/* plugin: check_mta_sts, the Nagios/Icinga plugin front end (Monitoring Plugins guidelines). */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clients.h"
#include "commands.h"
#include "config.h"
#include "nagios.h"
#include "output.h"
#include "sweep.h"
#include "checks/dnsname.h"
#include "lib/dynbuf.h"
#include "lib/str.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

#define PLUGIN_DEFAULT_TIMEOUT 30	/* seconds, below the 60 s kill of Nagios and Icinga */
#define PLUGIN_OUTPUT_MAX 8192		/* what Nagios keeps of plugin output */

enum {
	OPT_MX_ONLY = 6000,
	OPT_POLICY_ONLY,
	OPT_TIMEOUT_RESULT,
	OPT_PCONFIG,
};

struct plugin {
	const char *domain;
	struct nagios_range warn, crit;
	bool have_warn, have_crit;
	int verbose;
	enum status timeout_result;
	struct judge_opts judge;
	struct domain_facts df;	/* kept from the sweep callback */
	bool got;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: check_mta_sts -H DOMAIN [-w DAYS|RANGE] [-c DAYS|RANGE] [-t SECONDS] [-v]\n"
		"                     [--mx-only|--policy-only] [--resolver ADDR[:PORT]]\n"
		"                     [--ca-file FILE] [--timeout-result STATE] [--config FILE]\n");
}

static void help(void)
{
	printf("check_mta_sts (stswatch %s)\n"
	       "Check the MTA-STS deployment of a mail domain (RFC 8461): the TXT record, the\n"
	       "policy fetch, and STARTTLS with a valid certificate on every MX host, and say\n"
	       "when compliant senders will refuse mail.\n\n", STSWATCH_VERSION);
	usage(stdout);
	printf("\n"
	       "  -H, --hostname DOMAIN     the mail domain (not a host name of an MX)\n"
	       "  -w, --warning DAYS|RANGE  certificate days left that warn (default 21); a bare\n"
	       "                            number N means fewer than N days (\"N:\"); full range\n"
	       "                            syntax (N:, ~:N, N:M, @N:M) is accepted too\n"
	       "  -c, --critical DAYS|RANGE the same for critical (default 7)\n"
	       "  -t, --timeout SECONDS     deadline for the whole check (default %d)\n"
	       "      --timeout-result STATE  state when the deadline passes (default UNKNOWN)\n"
	       "  -v, --verbose             notes, banners and per-MX perfdata\n"
	       "      --mx-only             only MX and STARTTLS (judged as under enforce)\n"
	       "      --policy-only         only the TXT record, the policy and TLS-RPT\n"
	       "      --resolver ADDR[:PORT]  DNS resolver (default: /etc/resolv.conf)\n"
	       "      --ca-file FILE        trusted CA certificates (default: the system's)\n"
	       "      --config FILE         read resolver, CA and thresholds from a stswatch.conf\n"
	       "  -h, --help                this help;  -V, --version  the version\n\n"
	       "Perfdata: policy_cert_days, mx_cert_days (per MX with -v), max_age, mx_hosts,\n"
	       "valid_paths, mx_unmatched, policy_fetch_time, fails_in (when a failure is\n"
	       "predicted). Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n",
	       PLUGIN_DEFAULT_TIMEOUT);
}

static void keep_facts(void *arg, struct domain_facts *df)
{
	struct plugin *p = arg;

	/* take ownership: the sweep frees what is left in df */
	p->df = *df;
	memset(df, 0, sizeof(*df));
	p->got = true;
}

static double days_left(time_t t, time_t now)
{
	return floor(difftime(t, now) / 864.0) / 100.0;	/* two decimals, rounded down */
}

static void perf(struct dynbuf *sb, const char *label, double value, const char *uom,
		 const struct nagios_range *w, const struct nagios_range *c)
{
	struct nagios_perf pd;

	memset(&pd, 0, sizeof(pd));
	pd.label = label;
	pd.value = value;
	pd.uom = uom;
	pd.warn = w;
	pd.crit = c;
	nagios_perf_append(sb, &pd);
}

/* Raise the status when a days value falls in the user's range (ranges of other forms). */
static enum status apply_range(const struct plugin *p, enum status st, double days)
{
	if (p->have_crit && nagios_range_alert(&p->crit, days))
		return status_worst(st, STATUS_CRITICAL);
	if (p->have_warn && nagios_range_alert(&p->warn, days))
		return status_worst(st, STATUS_WARNING);
	return st;
}

static int report(struct plugin *p, const struct verdict *v, time_t now)
{
	struct dynbuf summary, pd, text;
	const struct domain_facts *df = &p->df;
	/* without -w/-c the perfdata still shows the day thresholds the judge applied */
	const struct nagios_range dw = { .start = p->judge.warn_days, .end_inf = true };
	const struct nagios_range dc = { .start = p->judge.crit_days, .end_inf = true };
	const struct nagios_range *w = p->have_warn ? &p->warn : &dw;
	const struct nagios_range *c = p->have_crit ? &p->crit : &dc;
	enum status st = v->status;
	const struct finding *top = NULL;
	char buf[64], *first, *out;
	int rc;

	dynbuf_init(&summary, 0);
	dynbuf_init(&pd, 0);
	dynbuf_init(&text, 0);
	for (size_t i = 0; i < v->findings.n && !top; i++)
		if (v->findings.v[i].sev != SEV_INFO)
			top = &v->findings.v[i];
	if (v->policy_cert_not_after)
		st = apply_range(p, st, days_left(v->policy_cert_not_after, now));
	if (v->mx_cert_not_after)
		st = apply_range(p, st, days_left(v->mx_cert_not_after, now));

	if (!top) {
		char dist[48];

		dynbuf_printf(&summary, "%s, ", v->mode ? policy_mode_str(v->mode) : "no policy");
		nagios_mx_summary(&summary, v->valid_paths, df->mx_total, v->n_mx);
		if (v->mx_cert_not_after)
			dynbuf_printf(&summary, ", earliest MX certificate expires %s",
				      time_distance_str(v->mx_cert_not_after, now, dist, sizeof(dist)));
	}
	first = nagios_first_line(df->domain, st, &v->findings, summary.buf);

	if (v->policy_cert_not_after)
		perf(&pd, "policy_cert_days", days_left(v->policy_cert_not_after, now), "", w, c);
	if (v->mx_cert_not_after)
		perf(&pd, "mx_cert_days", days_left(v->mx_cert_not_after, now), "", w, c);
	if (p->verbose) {
		for (size_t i = 0; i < v->n_mx; i++) {
			char label[HOST_LEN + 16];

			if (!v->mx[i].valid_until)
				continue;
			bsnprintf(label, sizeof(label), "mx_cert_days_%s", v->mx[i].name);
			perf(&pd, label, days_left(v->mx[i].valid_until, now), "", w, c);
		}
	}
	if (v->have_policy && v->policy.max_age >= 0)
		perf(&pd, "max_age", (double)v->policy.max_age, "s", NULL, NULL);
	/* only what was measured: a step the deadline left pending gives no value at all */
	if (df->probe_mx && dns_result_definite(df->mx_rc)) {
		perf(&pd, "mx_hosts", (double)(df->mx_total > v->n_mx ? df->mx_total : v->n_mx), "",
		     NULL, NULL);
		if (!v->mx_pending)
			perf(&pd, "valid_paths", (double)v->valid_paths, "", NULL, NULL);
		if (!df->probe_policy || dns_result_definite(df->sts_txt.rc) ||
		    df->fetch.rc != FETCH_NOT_ASKED)
			perf(&pd, "mx_unmatched", (double)v->unmatched, "", NULL, NULL);
	}
	if (df->fetch.rc != FETCH_NOT_ASKED && df->fetch.rc != FETCH_DNS)
		perf(&pd, "policy_fetch_time", df->fetch.total_ms / 1000.0, "s", NULL, NULL);
	if (v->fails_at)
		perf(&pd, "fails_in", difftime(v->fails_at, now) > 0 ? difftime(v->fails_at, now) : 0,
		     "s", NULL, NULL);

	for (size_t i = 0; i < v->findings.n; i++) {
		const struct finding *f = &v->findings.v[i];

		if (f->sev == SEV_INFO && !p->verbose)
			continue;
		dynbuf_printf(&text, "%s %s %s: %s\n", severity_str(f->sev), finding_code_str(f->code),
			      f->subject, f->message);
	}
	if (v->fails_at)
		dynbuf_printf(&text, "fails at %s: %s\n", time_rfc3339(v->fails_at, buf, sizeof(buf)),
			      v->fails_why);
	if (v->protection_ends)
		dynbuf_printf(&text, "protection ends at %s: senders drop the cached policy (id %s)\n",
			      time_rfc3339(v->protection_ends, buf, sizeof(buf)), v->cached_id);
	if (df->fetch.rc == FETCH_NOT_ASKED && df->deadline_hit && df->probe_policy)
		dynbuf_printf(&text, "policy: pending\n");
	if (df->fetch.rc != FETCH_NOT_ASKED)
		dynbuf_printf(&text, "policy %s: %s%s", df->fetch.url,
			      df->fetch.rc == FETCH_OK ? "fetched" : fetch_result_str(df->fetch.rc),
			      v->have_policy ? "" : " (not fetched)\n");
	if (v->have_policy)
		dynbuf_printf(&text, ", HTTP %ld, mode %s, max_age %ld\n", df->fetch.http_status,
			      policy_mode_str(v->policy.mode), v->policy.max_age);
	for (size_t i = 0; i < df->n_mx; i++) {
		const struct mx_host_facts *m = &df->mx[i];
		const struct mx_verdict *mv = i < v->n_mx ? &v->mx[i] : NULL;

		if (m->pending) {
			dynbuf_printf(&text, "mx %s (%d): pending (%s)\n", m->name, m->preference,
				      mx_pending_str(m->pending));
			continue;
		}
		dynbuf_printf(&text, "mx %s (%d): %s%s", m->name, m->preference,
			      mv && mv->valid ? "valid path" : "no valid path",
			      m->n_smtp ? "," : " (no address)");
		for (size_t a = 0; a < m->n_smtp; a++) {
			const struct smtp_facts *s = &m->smtp[a];

			if (s->rc == SMTP_OK && s->cert.present)
				dynbuf_printf(&text, " %s %s cert until %s", s->ip, s->tls_version,
					      time_rfc3339(s->cert.not_after, buf, sizeof(buf)));
			else
				dynbuf_printf(&text, " %s %s", s->ip, smtp_result_str(s->rc));
		}
		dynbuf_printf(&text, "\n");
	}
	if (text.buf)
		nagios_sanitize(text.buf);
	out = nagios_render(first, pd.buf ? pd.buf : "", text.buf ? text.buf : "",
			    PLUGIN_OUTPUT_MAX);
	fputs(out, stdout);
	if (!*out || out[strlen(out) - 1] != '\n')
		putchar('\n');
	free(out);
	rc = nagios_exit_code(st);
	free(first);
	dynbuf_free(&summary);
	dynbuf_free(&pd);
	dynbuf_free(&text);
	return rc;
}

/* "N:" (alert below N) gives N days; any other form gives 0 and is applied as a range. */
static double range_days(const struct nagios_range *r)
{
	if (!r->inside && !r->start_inf && r->end_inf && r->start >= 0)
		return r->start;
	return 0;
}

/*
 * A usage or set-up error as the one line a monitoring engine reads: what the user gave is
 * quoted (control bytes, a newline, '|' as \xNN), so it can neither make a second line nor
 * start perfdata.
 */
static int unknown(const char *fmt, const char *arg)
{
	char msg[1024], line[4096];

	bsnprintf(msg, sizeof(msg), fmt, arg);
	controls_escape(line, sizeof(line), msg, "|");
	printf("MTA-STS UNKNOWN - %s\n", line);
	usage(stdout);
	return EXIT_UNKNOWN;
}

/* ---- the deadline over everything ------------------------------------------------------ */

/*
 * -t covers the whole run, not only the sweep: loading the configuration (a FIFO nobody
 * writes, a stuck file system) and the CA bundle too. An alarm prints the result line for
 * the step it came in, prepared beforehand, and exits: nothing else is safe in a signal
 * handler.
 */
enum plugin_step { STEP_CONFIG, STEP_CLIENTS, STEP_CHECK, STEP__COUNT };

static const char *const step_words[STEP__COUNT] = {
	"loading the configuration",
	"loading the CA certificates and starting the resolver",
	"the check",
};

static volatile sig_atomic_t step_now;
static char alarm_line[STEP__COUNT][640];
static size_t alarm_len[STEP__COUNT];
static int alarm_exit;

static void on_alarm(int sig)
{
	int s = step_now;

	(void)sig;
	(void)!write(STDOUT_FILENO, alarm_line[s], alarm_len[s]);
	_exit(alarm_exit);
}

static void deadline_arm(const char *domain, long timeout, enum status result)
{
	struct sigaction sa;

	for (int s = 0; s < STEP__COUNT; s++) {
		bsnprintf(alarm_line[s], sizeof(alarm_line[s]), "MTA-STS %s - %s: check.timeout: "
			  "the deadline of %ld s passed while %s\n", status_str(result), domain,
			  timeout, step_words[s]);
		alarm_len[s] = strlen(alarm_line[s]);
	}
	alarm_exit = nagios_exit_code(result);
	step_now = STEP_CONFIG;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm((unsigned)timeout);
}

/* Milliseconds since t0 on CLOCK_MONOTONIC. */
static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)(t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int cmd_plugin(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "hostname", required_argument, NULL, 'H' },
		{ "warning", required_argument, NULL, 'w' },
		{ "critical", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "mx-only", no_argument, NULL, OPT_MX_ONLY },
		{ "policy-only", no_argument, NULL, OPT_POLICY_ONLY },
		{ "timeout-result", required_argument, NULL, OPT_TIMEOUT_RESULT },
		{ "resolver", required_argument, NULL, OPT_RESOLVER },
		{ "ca-file", required_argument, NULL, OPT_CA_FILE },
		{ "config", required_argument, NULL, OPT_PCONFIG },
		{ NULL, 0, NULL, 0 },
	};
	struct plugin p;
	struct config cfg;
	struct clients_opts co;
	struct clients cl = { 0 };
	struct sweep_opts so;
	struct sweep_domain_opts dopts = { 0 };
	struct loop *lp = NULL;
	struct sweep *sw = NULL;
	struct verdict v;
	char err[512];
	const char *resolver = NULL, *ca_file = NULL, *config = NULL;
	bool mx_only = false, policy_only = false;
	long timeout = PLUGIN_DEFAULT_TIMEOUT, left_ms;
	int opt, rc = EXIT_UNKNOWN, st;
	struct timespec t0;
	time_t now;

	memset(&p, 0, sizeof(p));
	p.timeout_result = STATUS_UNKNOWN;
	config_defaults(&cfg);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "H:w:c:t:vhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'H':
			p.domain = optarg;
			break;
		case 'w':
			if (nagios_range_parse(optarg, true, &p.warn, err, sizeof(err)) < 0) {
				rc = unknown("-w: %s", err);
				goto out;
			}
			p.have_warn = true;
			break;
		case 'c':
			if (nagios_range_parse(optarg, true, &p.crit, err, sizeof(err)) < 0) {
				rc = unknown("-c: %s", err);
				goto out;
			}
			p.have_crit = true;
			break;
		case 't':
			if (parse_long(optarg, 1, 3600, &timeout) < 0) {
				rc = unknown("-t: \"%s\" is not a number of seconds (1-3600)", optarg);
				goto out;
			}
			break;
		case 'v':
			p.verbose++;
			break;
		case 'h':
			help();
			rc = EXIT_UNKNOWN;	/* the guidelines: help and version exit 3 */
			goto out;
		case 'V':
			printf("check_mta_sts (stswatch %s)\n", STSWATCH_VERSION);
			rc = EXIT_UNKNOWN;
			goto out;
		case OPT_MX_ONLY:
			mx_only = true;
			break;
		case OPT_POLICY_ONLY:
			policy_only = true;
			break;
		case OPT_TIMEOUT_RESULT:
			st = status_parse(optarg);
			if (st < 0) {
				rc = unknown("--timeout-result: \"%s\" is not OK, WARNING, CRITICAL or "
					     "UNKNOWN", optarg);
				goto out;
			}
			p.timeout_result = (enum status)st;
			break;
		case OPT_RESOLVER:
			if (config_resolver_valid(optarg, err, sizeof(err)) < 0) {
				rc = unknown("--resolver: %s", err);
				goto out;
			}
			resolver = optarg;
			break;
		case OPT_CA_FILE:
			if (access(optarg, R_OK) < 0) {
				bsnprintf(err, sizeof(err), "--ca-file: %s: cannot read it: %s", optarg,
					  strerror(errno));
				rc = unknown("%s", err);
				goto out;
			}
			ca_file = optarg;
			break;
		case OPT_PCONFIG:
			config = optarg;
			break;
		default:
			rc = unknown("unknown or incomplete option \"%s\"", argv[optind - 1]);
			goto out;
		}
	}
	if (optind < argc) {
		rc = unknown("unexpected argument \"%s\"", argv[optind]);
		goto out;
	}
	if (!p.domain) {
		rc = unknown("%s", "-H DOMAIN is required");
		goto out;
	}
	if (!mail_domain_valid(p.domain)) {
		rc = unknown("\"%s\" is not a domain name", p.domain);
		goto out;
	}
	if (mx_only && policy_only) {
		rc = unknown("%s", "--mx-only and --policy-only exclude each other");
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	deadline_arm(p.domain, timeout, p.timeout_result);
	if (config && config_load(&cfg, config, err, sizeof(err)) < 0) {
		rc = unknown("%s", err);
		goto out;
	}
	if (resolver) {
		free(cfg.resolver);
		cfg.resolver = xstrdup(resolver);
	}
	if (ca_file) {
		free(cfg.ca_file);
		cfg.ca_file = xstrdup(ca_file);
	}
	p.judge = config_find_domain(&cfg, p.domain) ? config_find_domain(&cfg, p.domain)->judge :
		  cfg.judge;
	/*
	 * The judge's thresholds in days come from "N:" ranges (and bare numbers). Other range
	 * forms switch the judge's day threshold off and are applied to the days values here.
	 */
	if (p.have_warn)
		p.judge.warn_days = range_days(&p.warn);
	if (p.have_crit)
		p.judge.crit_days = range_days(&p.crit);
	if (p.judge.crit_days > p.judge.warn_days && p.have_warn && p.have_crit) {
		rc = unknown("%s", "-c must not allow more days than -w (for example -w 21 -c 7)");
		goto out;
	}

	lp = loop_new(NULL);
	if (!lp) {
		rc = unknown("%s", "cannot create the event loop");
		goto out;
	}
	clients_opts_from_config(&co, &cfg);
	step_now = STEP_CLIENTS;
	if (clients_open(&cl, lp, &co, err, sizeof(err)) < 0) {
		rc = unknown("%s", err);
		goto out;
	}
	step_now = STEP_CHECK;
	sweep_opts_from_config(&so, &cfg);
	so.concurrency = 1;
	so.probe_policy = !mx_only;
	so.probe_tlsrpt = !mx_only;
	so.probe_mx = !policy_only;
	sw = sweep_new(lp, &cl, &so);
	/*
	 * Steps keep their configured timeouts (the policy fetch waits as long as senders
	 * do); the deadline ends whatever still runs, and that is UNKNOWN naming the pending
	 * steps (--timeout-result), not a failure the deadline itself made.
	 */
	left_ms = timeout * 1000 - (timeout > 2 ? 500 : 100) - elapsed_ms(&t0);
	dopts.deadline_ms = (unsigned)(left_ms > 50 ? left_ms : 50);	/* what set-up left */
	sweep_add(sw, p.domain, &dopts, keep_facts, &p);
	while (!sweep_idle(sw))
		if (loop_run_once(lp, 1000) < 0)
			break;
	if (!p.got) {
		rc = unknown("%s", "the check did not run (the event loop failed)");
		goto out;
	}
	alarm(0);	/* the sweep's deadline held: the report is printed whole */
	now = time(NULL);
	/* --timeout-result: the severity the judge gives our own deadline */
	p.judge.timeout_sev = status_severity(p.timeout_result);
	judge_domain(&p.judge, &p.df, NULL, now, &v);
	rc = report(&p, &v, now);
	verdict_free(&v);
out:
	alarm(0);
	sweep_free(sw);
	clients_close(&cl);
	loop_free(lp);
	domain_facts_free(&p.df);
	config_free(&cfg);
	return rc;
}

/* Unit tests of alerting: routes and minimum severities, digests, the operator, the data,
 * Alertmanager's re-send. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "agent/alerting.h"
#include "agent/config.h"
#include "agent/output.h"
#include "agent/store.h"
#include "alerts/channel.h"
#include "lib/timeutil.h"

static char dir[64], db[128], conf[128];

static int setup(void **state)
{
	FILE *f;

	(void)state;
	strcpy(dir, "/tmp/stswatch-alerting-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/a.db", dir);
	snprintf(conf, sizeof(conf), "%s/s.conf", dir);
	f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f, "database = \"%s\";\n"
		"receivers = (\n"
		"  { name = \"all\"; type = \"webhook\"; url = \"https://h.example/all\"; },\n"
		"  { name = \"crit\"; type = \"slack\"; url = \"https://h.example/crit\";\n"
		"    min_severity = \"CRITICAL\"; },\n"
		"  { name = \"daily\"; type = \"webhook\"; url = \"https://h.example/daily\";\n"
		"    digest = \"08:00\"; timezone = \"UTC\"; },\n"
		"  { name = \"op\"; type = \"webhook\"; url = \"https://h.example/op\"; }\n"
		");\n"
		"notify = [ \"all\", \"crit\", \"daily\" ];\n"
		"alerts = { operator = \"op\"; };\n"
		"groups = ( { name = \"quiet\"; notify = [ ]; domains = ( \"quiet.example\" ); } );\n"
		"domains = ( \"example.org\" );\n", db);
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static long count(const char *where)
{
	char sql[300], out[64];
	FILE *p;

	snprintf(sql, sizeof(sql), "sqlite3 '%s' \"SELECT count(*) FROM outbox WHERE %s\"", db,
		 where);
	p = popen(sql, "r");
	assert_non_null(p);
	assert_non_null(fgets(out, sizeof(out), p));
	pclose(p);
	return atol(out);
}

/* Judge, record and alert one domain's facts at now. */
static struct alerting_result check(struct config *cfg, struct store *st, const char *domain,
				    struct domain_facts *df, time_t now)
{
	const struct domain_conf *d = config_find_domain(cfg, domain);
	struct verdict v;
	struct history h;
	struct alerting_result ar;
	json_t *report;
	int64_t run;

	assert_non_null(d);
	strcpy(df->domain, domain);
	df->checked_at = now;
	assert_int_equal(store_run_start(st, "run", now, &run), 0);
	assert_int_equal(store_load_history(st, domain, &h), 0);
	judge_domain(&d->judge, df, &h, now, &v);
	report = output_json_domain(df, &v);
	assert_int_equal(alerting_record(cfg, st, run, d, df, &v, report, now, 0, NULL, &ar), 0);
	json_decref(report);
	verdict_free(&v);
	history_free(&h);
	return ar;
}

static void test_routes(void **state)
{
	struct config cfg;
	struct store *st;
	struct domain_facts df;
	struct alerting_result ar;
	char err[512];

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(config_load(&cfg, conf, err, sizeof(err)), 0);
	st = store_open(db, STORE_WRITE, err, sizeof(err));
	assert_non_null(st);

	/* a WARNING (an MX certificate expiring in 15 days): "all" only; "crit" wants
	 * CRITICAL, "daily" takes it with its digest */
	fixture_healthy(&df);
	fixture_good_cert(&df.mx[0].smtp[0].cert, "mx1.example.org", NOW + 15 * DAY);
	ar = check(&cfg, st, "example.org", &df, NOW);
	assert_int_equal(ar.kind, ALERT_PROBLEM);
	assert_int_equal(ar.queued, 1);
	assert_int_equal(count("receiver = 'all' AND kind = 'problem'"), 1);
	assert_int_equal(count("receiver IN ('crit', 'daily')"), 0);
	domain_facts_free(&df);

	/* both MX certificates expired: no valid path, CRITICAL, escalated, to all three */
	fixture_healthy(&df);
	for (int i = 0; i < 2; i++) {
		char name[32];

		snprintf(name, sizeof(name), "mx%d.example.org", i + 1);
		fixture_good_cert(&df.mx[i].smtp[0].cert, name, NOW - DAY);
		df.mx[i].smtp[0].cert.problems = CERT_P_EXPIRED;
	}
	ar = check(&cfg, st, "example.org", &df, NOW + 3600);
	assert_int_equal(ar.kind, ALERT_ESCALATED);
	assert_int_equal(ar.queued, 3);
	domain_facts_free(&df);

	/* resolved: a resolution of a CRITICAL goes to every one told, "daily" at once too */
	fixture_healthy(&df);
	ar = check(&cfg, st, "example.org", &df, NOW + 7200);
	assert_int_equal(ar.kind, ALERT_RESOLVED);
	assert_int_equal(ar.queued, 3);
	domain_facts_free(&df);

	/* notify = [] silences a group on purpose */
	fixture_healthy(&df);
	fixture_good_cert(&df.mx[0].smtp[0].cert, "mx1.quiet.example", NOW - DAY);
	df.mx[0].smtp[0].cert.problems = CERT_P_EXPIRED;
	ar = check(&cfg, st, "quiet.example", &df, NOW + 7300);
	assert_int_equal(ar.kind, ALERT_PROBLEM);
	assert_int_equal(ar.queued, 0);
	domain_facts_free(&df);

	/* the operator hears of an inconclusive run, nobody else */
	assert_int_equal(alerting_inconclusive(&cfg, st, 0, "port 25 appears blocked", NOW), 0);
	assert_int_equal(count("receiver = 'op' AND kind = 'inconclusive'"), 1);
	store_close(st);
	config_free(&cfg);
}

static void test_digests(void **state)
{
	struct config cfg;
	struct store *st;
	size_t n = 9;
	char err[512];
	/* NOW is 2027-01-15T08:00:00Z: the digest moment itself */
	time_t day = NOW - 8 * 3600;	/* midnight */

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(config_load(&cfg, conf, err, sizeof(err)), 0);
	st = store_open(db, STORE_WRITE, err, sizeof(err));
	assert_non_null(st);
	/* the first call only starts the clock: no digest of everything ever */
	assert_int_equal(alerting_digests(&cfg, st, 0, day + 3600, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(alerting_digests(&cfg, st, 0, day + 7 * 3600, &n), 0);
	assert_int_equal(n, 0);
	/* at 08:00 UTC: one digest, once */
	assert_int_equal(alerting_digests(&cfg, st, 0, day + 8 * 3600, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(alerting_digests(&cfg, st, 0, day + 9 * 3600, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(alerting_digests(&cfg, st, 0, day + 31 * 3600, &n), 0);
	assert_int_equal(n, 0);
	/* the next day at 08:00 */
	assert_int_equal(alerting_digests(&cfg, st, 0, day + 32 * 3600 + 60, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(count("receiver = 'daily' AND kind = 'digest'"), 2);
	/* the digest lists what changed since the last one (from test_routes' checks) */
	{
		char sql[300], out[4096];
		FILE *p;

		snprintf(sql, sizeof(sql), "sqlite3 '%s' \"SELECT data FROM outbox WHERE kind ="
			 " 'digest' ORDER BY created_at LIMIT 1\"", db);
		p = popen(sql, "r");
		assert_non_null(p);
		assert_non_null(fgets(out, sizeof(out), p));
		pclose(p);
		assert_non_null(strstr(out, "\"receiver\":\"daily\""));
		assert_non_null(strstr(out, "\"open\":"));
		assert_non_null(strstr(out, "\"changed\":"));
	}
	store_close(st);
	config_free(&cfg);
}

/* ---- Alertmanager's re-send ------------------------------------------------------------- */

static char am_receiver_name[] = "am", am_url[] = "http://am.example.net:9093";

/* The alerts of one POST (a JSON array). */
static json_t *am_body(const struct channel_request *req)
{
	json_t *arr = json_loads(req->body, 0, NULL);

	assert_true(json_is_array(arr));
	return arr;
}

/* The first post of the one pending notification to "am" (of this kind); its row is then
 * marked sent. */
static json_t *am_first(struct store *st, const struct receiver *r, enum alert_kind kind,
			time_t at)
{
	struct store_outbox_row *rows = NULL;
	struct channel_request req;
	struct channel_item it;
	struct channel_msg m;
	size_t n = 0;
	char err[256];
	json_t *arr;

	assert_int_equal(store_outbox_due(st, "am", at, 10, &rows, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].kind, alert_kind_str(kind));
	it.id = rows[0].id;
	it.kind = kind;
	it.data = rows[0].data;
	m.id = rows[0].id;
	m.kind = kind;
	m.created_at = rows[0].created_at;
	m.n = 1;
	m.items = &it;
	assert_int_equal(channel_build(r, &m, at, &req, err, sizeof(err)), 0);
	arr = am_body(&req);
	channel_request_free(&req);
	strcpy(rows[0].state, "sent");
	assert_int_equal(store_outbox_update(st, &rows[0]), 0);
	store_outbox_rows_free(rows, n);
	return arr;
}

/* What the re-send to "am" posts at this time (one domain). */
static json_t *am_resend(const struct config *cfg, struct store *st, const struct receiver *r,
			 time_t at, size_t want_from_report)
{
	struct channel_request req;
	size_t from_report = 9;
	json_t *all, *arr;
	char err[256], *text;

	assert_int_equal(alerting_resend_collect(cfg, st, 0, &all, &from_report), 0);
	assert_int_equal(from_report, want_from_report);
	assert_int_equal(json_array_size(all), 1);
	text = json_dumps(json_array_get(all, 0), JSON_COMPACT);
	assert_int_equal(channel_alertmanager_resend(r, (const char *const *)&text, 1, at, &req,
						     err, sizeof(err)), 0);
	arr = am_body(&req);
	channel_request_free(&req);
	free(text);
	json_decref(all);
	return arr;
}

/* Every alert the first post fired is in the re-send with the same labels, annotations
 * and startsAt, and the re-send fires nothing else. */
static void am_same(json_t *first, json_t *resend, time_t first_at)
{
	char ended[32];
	size_t i, j, firing = 0;
	json_t *a, *b;

	time_rfc3339(first_at, ended, sizeof(ended));
	json_array_foreach(first, i, a) {
		json_t *hit = NULL;

		if (strcmp(json_string_value(json_object_get(a, "endsAt")), ended) == 0)
			continue;	/* an alert this post ended */
		firing++;
		json_array_foreach(resend, j, b)
			if (json_equal(json_object_get(a, "labels"), json_object_get(b, "labels")))
				hit = b;
		assert_non_null(hit);
		assert_true(json_equal(json_object_get(a, "annotations"),
				       json_object_get(hit, "annotations")));
		assert_true(json_equal(json_object_get(a, "startsAt"),
				       json_object_get(hit, "startsAt")));
	}
	assert_int_equal(json_array_size(resend), firing);
}

static void test_am_resend(void **state)
{
	/* "expires in 15 days" for the first checks, in 14 days from NOW + 6 h */
	const time_t EXPIRES = NOW + 15 * DAY + 6 * 3600;
	struct receiver r = { .name = am_receiver_name, .kind = CHANNEL_ALERTMANAGER,
			      .url = am_url };
	char amdb[128], amconf[128], err[512], *text = NULL;
	struct domain_facts df;
	struct alerting_result ar;
	struct config cfg;
	struct store *st;
	json_t *first, *again, *ann, *j;
	FILE *f;

	(void)state;
	snprintf(amdb, sizeof(amdb), "%s/am.db", dir);
	snprintf(amconf, sizeof(amconf), "%s/am.conf", dir);
	f = fopen(amconf, "w");
	assert_non_null(f);
	fprintf(f, "database = \"%s\";\n"
		"receivers = ( { name = \"am\"; type = \"alertmanager\"; url = \"%s\"; } );\n"
		"notify = [ \"am\" ];\n"
		"domains = ( \"example.org\" );\n", amdb, am_url);
	fclose(f);
	config_defaults(&cfg);
	assert_int_equal(config_load(&cfg, amconf, err, sizeof(err)), 0);
	st = store_open(amdb, STORE_WRITE, err, sizeof(err));
	assert_non_null(st);

	/* the problem: its post and the re-send at the same moment are the same alert */
	fixture_healthy(&df);
	fixture_good_cert(&df.mx[0].smtp[0].cert, "mx1.example.org", EXPIRES);
	ar = check(&cfg, st, "example.org", &df, NOW);
	assert_int_equal(ar.kind, ALERT_PROBLEM);
	first = am_first(st, &r, ALERT_PROBLEM, NOW);
	assert_int_equal(json_array_size(first), 1);
	ann = json_object_get(json_array_get(first, 0), "annotations");
	assert_int_equal(json_object_size(ann), 5);	/* summary, description, fails_at... */
	again = am_resend(&cfg, st, &r, NOW, 0);
	assert_true(json_equal(first, again));
	json_decref(again);

	/* a later check with nothing to tell: the re-send still says it all */
	ar = check(&cfg, st, "example.org", &df, NOW + 3600);
	assert_int_equal(ar.kind, ALERT_NONE);
	again = am_resend(&cfg, st, &r, NOW + 3600, 0);
	am_same(first, again, NOW);
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(
		json_array_get(again, 0), "annotations"), "description")), "\nFix: "));
	json_decref(again);
	domain_facts_free(&df);

	/* a check that could not tell (the MX lookup timed out) shows no MX finding: the
	 * incident stays open and the re-send keeps the words (and fails_at) told */
	fixture_healthy(&df);
	fixture_good_cert(&df.mx[0].smtp[0].cert, "mx1.example.org", EXPIRES);
	df.mx_rc = DNS_TIMEOUT;
	ar = check(&cfg, st, "example.org", &df, NOW + 7200);
	assert_int_equal(ar.kind, ALERT_NONE);
	assert_int_equal(store_domain_report(st, "example.org", &text), 0);
	assert_non_null(text);
	assert_null(strstr(text, "mx.cert.expiring"));
	free(text);
	again = am_resend(&cfg, st, &r, NOW + 7200, 0);
	am_same(first, again, NOW);
	json_decref(again);
	domain_facts_free(&df);

	/* a state kept before the words were (no "resend" member): from the last check */
	fixture_healthy(&df);
	fixture_good_cert(&df.mx[0].smtp[0].cert, "mx1.example.org", EXPIRES);
	ar = check(&cfg, st, "example.org", &df, NOW + 10800);
	assert_int_equal(ar.kind, ALERT_NONE);
	domain_facts_free(&df);
	assert_int_equal(store_alert_state_get(st, "example.org", &text), 0);
	j = json_loads(text, 0, NULL);
	free(text);
	assert_non_null(json_object_get(j, "resend"));
	assert_int_equal(json_object_del(j, "resend"), 0);
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	assert_int_equal(store_alert_state_put(st, "example.org", text, NOW + 10800), 0);
	free(text);
	again = am_resend(&cfg, st, &r, NOW + 10800, 1);
	am_same(first, again, NOW);
	json_decref(again);
	json_decref(first);

	/* the words are the last check's: "14 days" now, with nothing told */
	fixture_healthy(&df);
	fixture_good_cert(&df.mx[0].smtp[0].cert, "mx1.example.org", EXPIRES);
	ar = check(&cfg, st, "example.org", &df, NOW + 7 * 3600);
	assert_int_equal(ar.kind, ALERT_NONE);
	domain_facts_free(&df);
	again = am_resend(&cfg, st, &r, NOW + 7 * 3600, 0);
	assert_int_equal(json_array_size(again), 1);
	ann = json_object_get(json_array_get(again, 0), "annotations");
	assert_int_equal(json_object_size(ann), 5);
	assert_non_null(strstr(json_string_value(json_object_get(ann, "summary")),
			       "certificate expires in 14 days"));
	assert_non_null(strstr(json_string_value(json_object_get(ann, "description")),
			       "What is wrong: certificate expires in 14 days\nEvidence: "));
	json_decref(again);

	/* silenced, mx1's certificate 3 days from expiry and mx2's expired: mx1's finding is
	 * CRITICAL now (the last valid path), but receivers were not told; the re-send keeps
	 * the alert they know, at warning, with its words */
	{
		int64_t sid;
		json_t *rep, *fs, *x;
		size_t i;
		bool critical = false;

		assert_int_equal(store_silence_add(st, "example.org", NULL, NOW + 7 * 3600 + 2700,
						   "maintenance", NOW + 7 * 3600, &sid), 0);
		fixture_healthy(&df);
		fixture_good_cert(&df.mx[0].smtp[0].cert, "mx1.example.org", NOW + 3 * DAY);
		fixture_good_cert(&df.mx[1].smtp[0].cert, "mx2.example.org", NOW - DAY);
		df.mx[1].smtp[0].cert.problems = CERT_P_EXPIRED;
		ar = check(&cfg, st, "example.org", &df, NOW + 7 * 3600 + 1800);
		assert_int_equal(ar.kind, ALERT_NONE);
		domain_facts_free(&df);
		assert_int_equal(store_domain_report(st, "example.org", &text), 0);
		rep = json_loads(text, 0, NULL);
		free(text);
		fs = json_object_get(rep, "findings");
		json_array_foreach(fs, i, x)
			if (strcmp(json_string_value(json_object_get(x, "code")), "mx.cert.expiring") == 0)
				critical = strcmp(json_string_value(json_object_get(x, "severity")),
						  "CRITICAL") == 0;
		json_decref(rep);
		assert_true(critical);
		again = am_resend(&cfg, st, &r, NOW + 7 * 3600 + 1800, 0);
		assert_int_equal(json_array_size(again), 1);
		x = json_array_get(again, 0);
		assert_string_equal(json_string_value(json_object_get(json_object_get(x, "labels"),
								      "severity")), "warning");
		assert_non_null(strstr(json_string_value(json_object_get(json_object_get(
			x, "annotations"), "summary")), "certificate expires in 14 days"));
		json_decref(again);
	}

	/* escalated (both MX certificates expired): the re-send fires what its post fired,
	 * at the same severities, with the same words */
	fixture_healthy(&df);
	for (int i = 0; i < 2; i++) {
		char name[32];

		snprintf(name, sizeof(name), "mx%d.example.org", i + 1);
		fixture_good_cert(&df.mx[i].smtp[0].cert, name, NOW - DAY);
		df.mx[i].smtp[0].cert.problems = CERT_P_EXPIRED;
	}
	ar = check(&cfg, st, "example.org", &df, NOW + 8 * 3600);
	assert_int_equal(ar.kind, ALERT_ESCALATED);
	first = am_first(st, &r, ALERT_ESCALATED, NOW + 8 * 3600);
	/* five minutes later, the daemon's re-send between checks */
	again = am_resend(&cfg, st, &r, NOW + 8 * 3600 + 300, 0);
	am_same(first, again, NOW + 8 * 3600);
	assert_true(json_array_size(again) >= 2);
	json_decref(again);
	json_decref(first);
	domain_facts_free(&df);

	/* resolved: nothing is re-sent */
	fixture_healthy(&df);
	ar = check(&cfg, st, "example.org", &df, NOW + 10 * 3600);
	assert_int_equal(ar.kind, ALERT_RESOLVED);
	domain_facts_free(&df);
	{
		json_t *all;
		size_t from_report;

		assert_int_equal(alerting_resend_collect(&cfg, st, 0, &all, &from_report), 0);
		assert_int_equal(json_array_size(all), 0);
		json_decref(all);
	}
	store_close(st);
	config_free(&cfg);
}

/* The number of domains Alertmanager receiver ri re-sends the firing alerts of. */
static size_t resend_count(const struct config *cfg, struct store *st, size_t ri)
{
	size_t from_report = 9, n;
	json_t *all;

	assert_int_equal(alerting_resend_collect(cfg, st, ri, &all, &from_report), 0);
	n = json_array_size(all);
	json_decref(all);
	return n;
}

/*
 * The re-send follows the receiver's min_severity as its notifications do: a receiver of
 * CRITICAL problems never hears of a WARNING one, not by a re-send either; once the domain
 * is CRITICAL it is re-sent there too. An unconfirmed problem (a transient failure seen
 * once of confirm = 2) was told to no one, so no receiver re-sends it.
 */
static void test_am_resend_min_severity(void **state)
{
	char amdb[128], amconf[128], err[512];
	struct domain_facts df;
	struct alerting_result ar;
	struct config cfg;
	struct store *st;
	FILE *f;

	(void)state;
	snprintf(amdb, sizeof(amdb), "%s/amsev.db", dir);
	snprintf(amconf, sizeof(amconf), "%s/amsev.conf", dir);
	f = fopen(amconf, "w");
	assert_non_null(f);
	fprintf(f, "database = \"%s\";\n"
		"receivers = (\n"
		"  { name = \"am\"; type = \"alertmanager\"; url = \"%s\"; },\n"
		"  { name = \"amcrit\"; type = \"alertmanager\"; url = \"%s\";\n"
		"    min_severity = \"CRITICAL\"; } );\n"
		"notify = [ \"am\", \"amcrit\" ];\n"
		"domains = ( \"example.org\", \"example.net\" );\n", amdb, am_url, am_url);
	fclose(f);
	config_defaults(&cfg);
	assert_int_equal(config_load(&cfg, amconf, err, sizeof(err)), 0);
	st = store_open(amdb, STORE_WRITE, err, sizeof(err));
	assert_non_null(st);

	/* a WARNING (an MX certificate expiring in 15 days): told to "am" only */
	fixture_healthy(&df);
	fixture_good_cert(&df.mx[0].smtp[0].cert, "mx1.example.org", NOW + 15 * DAY);
	ar = check(&cfg, st, "example.org", &df, NOW);
	domain_facts_free(&df);
	assert_int_equal(ar.kind, ALERT_PROBLEM);
	assert_int_equal(ar.queued, 1);
	assert_int_equal(resend_count(&cfg, st, 0), 1);
	assert_int_equal(resend_count(&cfg, st, 1), 0);

	/* both MX certificates expired: CRITICAL, told to both, re-sent by both */
	fixture_healthy(&df);
	for (int i = 0; i < 2; i++) {
		char name[32];

		snprintf(name, sizeof(name), "mx%d.example.org", i + 1);
		fixture_good_cert(&df.mx[i].smtp[0].cert, name, NOW - DAY);
		df.mx[i].smtp[0].cert.problems = CERT_P_EXPIRED;
	}
	ar = check(&cfg, st, "example.org", &df, NOW + 3600);
	domain_facts_free(&df);
	assert_int_equal(ar.kind, ALERT_ESCALATED);
	assert_int_equal(ar.queued, 2);
	assert_int_equal(resend_count(&cfg, st, 0), 1);
	assert_int_equal(resend_count(&cfg, st, 1), 1);

	/* example.net: mx1 refuses connections (transient), seen once: not yet told, not
	 * re-sent; seen again: confirmed, told to "am" (a WARNING), re-sent there only */
	fixture_healthy(&df);
	df.mx[0].smtp[0].rc = SMTP_CONNECT;
	strcpy(df.mx[0].smtp[0].error, "connect: Connection refused");
	memset(&df.mx[0].smtp[0].cert, 0, sizeof(df.mx[0].smtp[0].cert));
	ar = check(&cfg, st, "example.net", &df, NOW + 3600);
	domain_facts_free(&df);
	assert_int_equal(ar.kind, ALERT_NONE);
	assert_true(ar.unconfirmed);
	assert_int_equal(resend_count(&cfg, st, 0), 1);
	assert_int_equal(resend_count(&cfg, st, 1), 1);
	fixture_healthy(&df);
	df.mx[0].smtp[0].rc = SMTP_CONNECT;
	strcpy(df.mx[0].smtp[0].error, "connect: Connection refused");
	memset(&df.mx[0].smtp[0].cert, 0, sizeof(df.mx[0].smtp[0].cert));
	ar = check(&cfg, st, "example.net", &df, NOW + 3900);
	domain_facts_free(&df);
	assert_int_equal(ar.kind, ALERT_PROBLEM);
	assert_int_equal(ar.queued, 1);
	assert_int_equal(resend_count(&cfg, st, 0), 2);
	assert_int_equal(resend_count(&cfg, st, 1), 1);
	store_close(st);
	config_free(&cfg);
}

/*
 * A digest at 08:00 in the receiver's own time zone (Asia/Tokyo, UTC+9: 23:00 UTC), not
 * the system's, once a day; the last one is kept in the database, so a restart (the store
 * closed and opened again) sends no second digest for the same day.
 */
static void test_digest_timezone(void **state)
{
	char tzdb[128], tzconf[128], err[512];
	struct config cfg;
	struct store *st;
	size_t n = 9;
	const time_t day = NOW - 8 * 3600;	/* 2027-01-15T00:00:00Z */
	FILE *f;

	(void)state;
	snprintf(tzdb, sizeof(tzdb), "%s/tz.db", dir);
	snprintf(tzconf, sizeof(tzconf), "%s/tz.conf", dir);
	f = fopen(tzconf, "w");
	assert_non_null(f);
	fprintf(f, "database = \"%s\";\n"
		"receivers = ( { name = \"tokyo\"; type = \"webhook\"; url = \"https://h.example/t\";\n"
		"  digest = \"08:00\"; timezone = \"Asia/Tokyo\"; } );\n"
		"notify = [ \"tokyo\" ];\n"
		"alerts = { timezone = \"UTC\"; };\n"
		"domains = ( \"example.org\" );\n", tzdb);
	fclose(f);
	setenv("TZ", "UTC", 1);
	config_defaults(&cfg);
	assert_int_equal(config_load(&cfg, tzconf, err, sizeof(err)), 0);
	st = store_open(tzdb, STORE_WRITE, err, sizeof(err));
	assert_non_null(st);
	/* 09:00 UTC (18:00 in Tokyo): the clock starts */
	assert_int_equal(alerting_digests(&cfg, st, 0, day + 9 * 3600, &n), 0);
	assert_int_equal(n, 0);
	/* 08:00 UTC would be the system's (UTC) and the global timezone's moment: not this one */
	assert_int_equal(alerting_digests(&cfg, st, 0, day + 22 * 3600 + 59 * 60, &n), 0);
	assert_int_equal(n, 0);
	/* 23:00 UTC is 08:00 in Tokyo */
	assert_int_equal(alerting_digests(&cfg, st, 0, day + 23 * 3600, &n), 0);
	assert_int_equal(n, 1);
	store_close(st);
	/* a restart: the day's digest is known to be sent */
	st = store_open(tzdb, STORE_WRITE, err, sizeof(err));
	assert_non_null(st);
	assert_int_equal(alerting_digests(&cfg, st, 0, day + 23 * 3600 + 1800, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(alerting_digests(&cfg, st, 0, day + DAY + 8 * 3600, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(alerting_digests(&cfg, st, 0, day + DAY + 23 * 3600, &n), 0);
	assert_int_equal(n, 1);
	store_close(st);
	config_free(&cfg);
	unsetenv("TZ");
}

/* A number from one SQL statement on a database, through the sqlite3 shell. */
static long sql_count(const char *path, const char *sql)
{
	char cmd[600], out[64];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "sqlite3 '%s' \"%s\"", path, sql);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(out, sizeof(out), p));
	assert_int_equal(pclose(p), 0);
	return atol(out);
}

/*
 * The outbox is written in the transaction that records the check: when the notification
 * cannot be written (a trigger refuses the insert, as a full disk would), the check, the
 * domain's status and its alert state stay as they were; once it can, the next check
 * records both.
 */
static void test_outbox_atomic(void **state)
{
	char adb[128], aconf[128], err[512], cmd[400];
	struct config cfg;
	struct store *st;
	struct domain_facts df;
	const struct domain_conf *d;
	struct verdict v;
	struct history h;
	struct alerting_result ar;
	json_t *report;
	int64_t run;
	FILE *f;

	(void)state;
	snprintf(adb, sizeof(adb), "%s/atomic.db", dir);
	snprintf(aconf, sizeof(aconf), "%s/atomic.conf", dir);
	f = fopen(aconf, "w");
	assert_non_null(f);
	fprintf(f, "database = \"%s\";\n"
		"receivers = ( { name = \"all\"; type = \"webhook\"; url = \"https://h.example/a\"; } );\n"
		"notify = [ \"all\" ];\n"
		"domains = ( \"example.org\" );\n", adb);
	fclose(f);
	config_defaults(&cfg);
	assert_int_equal(config_load(&cfg, aconf, err, sizeof(err)), 0);
	st = store_open(adb, STORE_WRITE, err, sizeof(err));
	assert_non_null(st);

	/* a healthy first check: recorded, nothing to tell */
	fixture_healthy(&df);
	ar = check(&cfg, st, "example.org", &df, NOW);
	domain_facts_free(&df);
	assert_int_equal(ar.kind, ALERT_NONE);
	assert_int_equal(sql_count(adb, "SELECT count(*) FROM checks"), 1);

	/* the outbox refuses rows: the problem's check is not recorded either */
	snprintf(cmd, sizeof(cmd), "sqlite3 '%s' \"CREATE TRIGGER no_outbox BEFORE INSERT ON outbox"
		 " BEGIN SELECT RAISE(ABORT, 'refused'); END\"", adb);
	assert_int_equal(system(cmd), 0);
	fixture_healthy(&df);
	fixture_good_cert(&df.mx[0].smtp[0].cert, "mx1.example.org", NOW + 15 * DAY);
	strcpy(df.domain, "example.org");
	df.checked_at = NOW + 3600;
	d = config_find_domain(&cfg, "example.org");
	assert_int_equal(store_run_start(st, "run", NOW + 3600, &run), 0);
	assert_int_equal(store_load_history(st, "example.org", &h), 0);
	judge_domain(&d->judge, &df, &h, NOW + 3600, &v);
	assert_int_equal(v.status, STATUS_WARNING);
	report = output_json_domain(&df, &v);
	assert_true(alerting_record(&cfg, st, run, d, &df, &v, report, NOW + 3600, 0, NULL,
				    &ar) < 0);
	json_decref(report);
	verdict_free(&v);
	history_free(&h);
	domain_facts_free(&df);
	assert_int_equal(sql_count(adb, "SELECT count(*) FROM checks"), 1);
	assert_int_equal(sql_count(adb, "SELECT count(*) FROM outbox"), 0);
	assert_int_equal(sql_count(adb, "SELECT count(*) FROM domains WHERE status = 'OK'"), 1);
	assert_int_equal(sql_count(adb, "SELECT count(*) FROM alert_state WHERE state LIKE"
				   " '%mx.cert.expiring%'"), 0);

	/* the outbox takes rows again: the next check records the check and its problem */
	snprintf(cmd, sizeof(cmd), "sqlite3 '%s' \"DROP TRIGGER no_outbox\"", adb);
	assert_int_equal(system(cmd), 0);
	fixture_healthy(&df);
	fixture_good_cert(&df.mx[0].smtp[0].cert, "mx1.example.org", NOW + 15 * DAY);
	ar = check(&cfg, st, "example.org", &df, NOW + 7200);
	domain_facts_free(&df);
	assert_int_equal(ar.kind, ALERT_PROBLEM);
	assert_int_equal(sql_count(adb, "SELECT count(*) FROM checks"), 2);
	assert_int_equal(sql_count(adb, "SELECT count(*) FROM outbox WHERE kind = 'problem'"), 1);
	store_close(st);
	config_free(&cfg);
}

/*
 * An unconfirmed failure (mx2 refused once, confirm = 2) beside a told problem (mx1's
 * certificate): the notification names it among the domain's findings, but Alertmanager
 * is told only of what was confirmed, as its re-sends are, so the unconfirmed alert does
 * not fire and then expire between checks; once confirmed it fires (its own problem).
 */
static void test_am_unconfirmed(void **state)
{
	struct receiver r = { .name = am_receiver_name, .kind = CHANNEL_ALERTMANAGER,
			      .url = am_url };
	char amdb[128], amconf[128], err[512];
	struct domain_facts df;
	struct alerting_result ar;
	struct config cfg;
	struct store *st;
	json_t *first, *again, *x;
	size_t i;
	bool connect;
	FILE *f;

	(void)state;
	snprintf(amdb, sizeof(amdb), "%s/amunc.db", dir);
	snprintf(amconf, sizeof(amconf), "%s/amunc.conf", dir);
	f = fopen(amconf, "w");
	assert_non_null(f);
	fprintf(f, "database = \"%s\";\n"
		"receivers = ( { name = \"am\"; type = \"alertmanager\"; url = \"%s\"; } );\n"
		"notify = [ \"am\" ];\n"
		"domains = ( \"example.org\" );\n", amdb, am_url);
	fclose(f);
	config_defaults(&cfg);
	assert_int_equal(config_load(&cfg, amconf, err, sizeof(err)), 0);
	st = store_open(amdb, STORE_WRITE, err, sizeof(err));
	assert_non_null(st);

	for (int run = 0; run < 2; run++) {
		time_t at = NOW + run * 3600;

		fixture_healthy(&df);
		fixture_good_cert(&df.mx[0].smtp[0].cert, "mx1.example.org", NOW + 15 * DAY);
		df.mx[1].smtp[0].rc = SMTP_CONNECT;
		strcpy(df.mx[1].smtp[0].error, "connect: Connection refused");
		memset(&df.mx[1].smtp[0].cert, 0, sizeof(df.mx[1].smtp[0].cert));
		ar = check(&cfg, st, "example.org", &df, at);
		domain_facts_free(&df);
		assert_int_equal(ar.kind, ALERT_PROBLEM);	/* mx1's, then mx2's own */
		assert_int_equal(ar.unconfirmed, run == 0);
		first = am_first(st, &r, ar.kind, at);
		connect = false;
		json_array_foreach(first, i, x)
			if (strcmp(json_string_value(json_object_get(json_object_get(x, "labels"),
								     "code")), "mx.connect") == 0 &&
			    strcmp(json_string_value(json_object_get(x, "endsAt")),
				   time_rfc3339(at, (char[32]){ 0 }, 32)) != 0)
				connect = true;
		/* fired only once confirmed */
		assert_int_equal(connect, run == 1);
		again = am_resend(&cfg, st, &r, at + 300, 0);
		/* with two told incidents too: each alert carries its own incident and start,
		 * and the summary of the notification, led by the incident it was about */
		am_same(first, again, at);
		json_decref(again);
		json_decref(first);
	}
	store_close(st);
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_digests),
		cmocka_unit_test(test_digest_timezone),
		cmocka_unit_test(test_am_resend),
		cmocka_unit_test(test_am_resend_min_severity),
		cmocka_unit_test(test_am_unconfirmed),
		cmocka_unit_test(test_outbox_atomic),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

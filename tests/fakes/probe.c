/*
 * probe: run ONE real probe (checks/smtp_probe.c or checks/https_probe.c on lib/loop.c)
 * against ADDR:PORT and print its facts, and the judge's findings on them, as one JSON
 * object. The driver of the fake-server tests (tests/fakes/run.py); needs no root.
 *
 *   probe smtp  ADDR:PORT [--host MX] [--ehlo NAME] [--connect-ms N] [--step-ms N] [--ca FILE]
 *   probe https ADDR:PORT [--domain D] [--timeout-ms N] [--ca FILE]
 *
 * Exit 0 when the probe ran (whatever it found), 2 on a usage or set-up error.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/output.h"
#include "checks/facts.h"
#include "checks/https_probe.h"
#include "checks/judge.h"
#include "checks/smtp_probe.h"
#include "checks/tlscert.h"
#include "lib/loop.h"
#include "lib/str.h"
#include "lib/xalloc.h"

/* The policy the SMTP case is judged under: enforce, the probed host the only MX. */
#define SMTP_POLICY_FMT "version: STSv1\r\nmode: enforce\r\nmx: %s\r\nmax_age: 604800\r\n"
#define TXT_RECORD "v=STSv1; id=20240101T000000;"

struct args {
	const char *kind;	/* "smtp" or "https" */
	char ip[IP_STR_LEN];
	int family;
	unsigned port;
	const char *host, *domain, *ehlo, *ca;
	unsigned connect_ms, step_ms, timeout_ms;
};

struct wait {
	bool done;
	struct smtp_facts smtp;
	struct policy_fetch fetch;
};

static int usage(void)
{
	fprintf(stderr, "usage: probe smtp ADDR:PORT [--host MX] [--ehlo NAME] [--connect-ms N] "
		"[--step-ms N] [--ca FILE]\n"
		"       probe https ADDR:PORT [--domain D] [--timeout-ms N] [--ca FILE]\n");
	return 2;
}

/* "127.0.0.1:2525" or "[::1]:2525" into ip, family and port; 0 or -1. */
static int parse_addr(const char *s, struct args *a)
{
	const char *colon = strrchr(s, ':');
	char ip[IP_STR_LEN + 2];
	unsigned char bin[16];
	long port;
	size_t n;

	if (!colon || parse_long(colon + 1, 1, 65535, &port) != 0)
		return -1;
	n = (size_t)(colon - s);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(ip))
		return -1;
	memcpy(ip, s, n);
	ip[n] = '\0';
	a->family = strchr(ip, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(a->family, ip, bin) != 1)
		return -1;
	strlcpy_s(a->ip, ip, sizeof(a->ip));
	a->port = (unsigned)port;
	return 0;
}

static int parse_ms(const char *s, unsigned *out)
{
	long v;

	if (!s || parse_long(s, 1, 600000, &v) != 0)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	memset(a, 0, sizeof(*a));
	a->host = "mx.fake.test";
	a->domain = "fake.test";
	a->ehlo = "probe.fake.test";
	a->connect_ms = 1000;
	a->step_ms = 1000;
	a->timeout_ms = 2000;
	if (argc < 3 || (strcmp(argv[1], "smtp") != 0 && strcmp(argv[1], "https") != 0))
		return -1;
	a->kind = argv[1];
	if (parse_addr(argv[2], a) != 0)
		return -1;
	for (int i = 3; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		int rc = 0;

		if (!val)
			return -1;
		if (strcmp(opt, "--host") == 0)
			a->host = val;
		else if (strcmp(opt, "--domain") == 0)
			a->domain = val;
		else if (strcmp(opt, "--ehlo") == 0)
			a->ehlo = val;
		else if (strcmp(opt, "--ca") == 0)
			a->ca = val;
		else if (strcmp(opt, "--connect-ms") == 0)
			rc = parse_ms(val, &a->connect_ms);
		else if (strcmp(opt, "--step-ms") == 0)
			rc = parse_ms(val, &a->step_ms);
		else if (strcmp(opt, "--timeout-ms") == 0)
			rc = parse_ms(val, &a->timeout_ms);
		else
			return -1;
		if (rc != 0)
			return -1;
		i++;
	}
	return 0;
}

static void on_smtp(void *arg, const struct smtp_facts *res)
{
	struct wait *w = arg;

	w->smtp = *res;
	w->done = true;
}

static void on_fetch(void *arg, struct policy_fetch *res)
{
	struct wait *w = arg;

	w->fetch = *res;
	res->body = NULL;	/* taken */
	w->done = true;
}

static json_t *cert_json(const struct cert_facts *cf)
{
	char problems[256];

	cert_problems_str(cf, problems, sizeof(problems));
	return json_pack("{s:b, s:i, s:o, s:i, s:o, s:o, s:o, s:o, s:o, s:i}",
			 "present", cf->present, "problems", (int)cf->problems,
			 "problems_text", json_str(problems), "verify_error", cf->verify_error,
			 "verify_text", json_str(cf->verify_text), "subject", json_str(cf->subject),
			 "sans", json_str(cf->sans), "expected_name", json_str(cf->expected_name),
			 "not_after", json_time(cf->not_after), "chain_len", cf->chain_len);
}

static json_t *smtp_json(const struct smtp_facts *s)
{
	return json_pack("{s:s, s:s, s:o, s:o, s:b, s:o, s:o, s:o, s:I}",
			 "result", smtp_result_str(s->rc), "stage", smtp_stage_str(s->stage),
			 "error", json_str(s->error), "banner", json_str(s->banner),
			 "starttls_offered", s->starttls_offered,
			 "tls_version", json_str(s->tls_version), "cipher", json_str(s->cipher),
			 "cert", cert_json(&s->cert), "time_ms", (json_int_t)s->time_ms);
}

/* The body as a JSON string when it is UTF-8 (json_stringn checks), null otherwise. */
static json_t *body_json(const struct policy_fetch *f)
{
	json_t *j = f->body ? json_stringn(f->body, f->body_len) : NULL;

	return j ? j : json_null();
}

static json_t *fetch_json(const struct policy_fetch *f)
{
	return json_pack("{s:s, s:s, s:b, s:o, s:o, s:o, s:I, s:o, s:o, s:I, s:o, s:I, s:o, s:o}",
			 "result", fetch_result_str(f->rc), "step", fetch_step_str(f->step),
			 "headers_too_large", f->headers_too_large, "error", json_str(f->error),
			 "url", json_str(f->url), "ip", json_str(f->ip),
			 "http_status", (json_int_t)f->http_status,
			 "content_type", json_str(f->content_type), "location", json_str(f->location),
			 "body_len", (json_int_t)f->body_len,
			 "body", body_json(f),
			 "total_ms", (json_int_t)f->total_ms, "tls_version", json_str(f->tls_version),
			 "cert", cert_json(&f->cert));
}

static void set_txt(struct txt_answer *ta, const char *rec)
{
	ta->rc = DNS_OK;
	ta->n = 1;
	ta->recs[0] = xstrdup(rec);
	ta->lens[0] = strlen(rec);
}

/* A policy host as a sender finds it when all is well, for the SMTP case. */
static void good_policy(struct domain_facts *df, const char *mx, time_t now)
{
	struct policy_fetch *f = &df->fetch;
	char body[HOST_LEN + 96];

	set_txt(&df->sts_txt, TXT_RECORD);
	df->policy_addrs.rc4 = DNS_OK;
	df->policy_addrs.rc6 = DNS_NODATA;
	df->policy_addrs.n = 1;
	df->policy_addrs.v[0].family = AF_INET;
	strlcpy_s(df->policy_addrs.v[0].ip, "127.0.0.1", IP_STR_LEN);
	bsnprintf(body, sizeof(body), SMTP_POLICY_FMT, mx);
	f->rc = FETCH_OK;
	f->http_status = 200;
	strlcpy_s(f->content_type, "text/plain", sizeof(f->content_type));
	bsnprintf(f->url, sizeof(f->url), "https://mta-sts.%s/.well-known/mta-sts.txt", df->domain);
	f->body = xstrdup(body);
	f->body_len = strlen(body);
	f->cert.present = true;
	f->cert.not_before = now - 30 * 86400;
	f->cert.not_after = now + 60 * 86400;
	bsnprintf(f->cert.expected_name, sizeof(f->cert.expected_name), "mta-sts.%s", df->domain);
	f->cert.chain_len = 2;
}

/*
 * The judge's findings on what the probe found: the SMTP facts as the only address of
 * the only MX under an enforce policy that names it; the fetch as the policy of a
 * domain whose TXT record is valid (no MX probed).
 */
static json_t *judge_json(const struct args *a, const struct wait *w, time_t now)
{
	struct domain_facts df;
	struct judge_opts o;
	struct verdict v;
	json_t *dom, *out = NULL;

	domain_facts_init(&df, a->domain);
	df.checked_at = now;
	judge_opts_defaults(&o);
	o.tlsrpt = false;
	if (strcmp(a->kind, "smtp") == 0) {
		struct mx_host_facts *m;

		df.probe_policy = true;
		df.probe_mx = true;
		good_policy(&df, a->host, now);
		df.mx_rc = DNS_OK;
		df.n_mx = 1;
		df.mx = xcalloc(1, sizeof(*df.mx));
		m = &df.mx[0];
		strlcpy_s(m->name, a->host, sizeof(m->name));
		m->preference = 10;
		m->addrs.rc4 = DNS_OK;
		m->addrs.rc6 = DNS_NODATA;
		m->addrs.n = 1;
		m->addrs.v[0].family = a->family;
		strlcpy_s(m->addrs.v[0].ip, a->ip, IP_STR_LEN);
		m->n_smtp = 1;
		m->smtp = xcalloc(1, sizeof(*m->smtp));
		m->smtp[0] = w->smtp;
	} else {
		df.probe_policy = true;
		set_txt(&df.sts_txt, TXT_RECORD);
		df.policy_addrs.rc4 = DNS_OK;
		df.policy_addrs.rc6 = DNS_NODATA;
		df.policy_addrs.n = 1;
		df.policy_addrs.v[0].family = a->family;
		strlcpy_s(df.policy_addrs.v[0].ip, a->ip, IP_STR_LEN);
		df.fetch = w->fetch;
		df.fetch.body = w->fetch.body ? xstrdup(w->fetch.body) : NULL;
	}
	judge_domain(&o, &df, NULL, now, &v);
	dom = output_json_domain(&df, &v);
	if (dom) {
		out = json_object_get(dom, "findings");
		json_incref(out);
		json_object_set_new(dom, "findings", json_null());
		json_decref(dom);
	}
	verdict_free(&v);
	domain_facts_free(&df);
	return out ? out : json_array();
}

static int run_probe(const struct args *a, struct loop *lp, struct tlscert_store *st,
		     struct wait *w, time_t now, char *err, size_t errlen)
{
	struct smtp_client *sc = NULL;
	struct https_client *hc = NULL;
	int rc = -1;

	if (strcmp(a->kind, "smtp") == 0) {
		struct smtp_client_opts so = {
			.ehlo_name = a->ehlo, .connect_ms = a->connect_ms, .step_ms = a->step_ms,
			.port = (uint16_t)a->port,
		};

		sc = smtp_client_new(lp, st, &so, err, errlen);
		if (!sc || !smtp_probe_start(sc, a->host, a->family, a->ip, now, on_smtp, w))
			goto out;
	} else {
		struct addr_answer addrs;

		memset(&addrs, 0, sizeof(addrs));
		addrs.rc4 = DNS_OK;
		addrs.n = 1;
		addrs.v[0].family = a->family;
		strlcpy_s(addrs.v[0].ip, a->ip, IP_STR_LEN);
		{
			struct https_client_opts ho = { .port = (uint16_t)a->port };

			hc = https_client_new(lp, st, &ho, err, errlen);
		}
		if (!hc)
			goto out;
		if (!https_fetch_policy(hc, a->domain, &addrs, a->timeout_ms, now, on_fetch, w)) {
			bsnprintf(err, errlen, "cannot start the fetch");
			goto out;
		}
	}
	while (!w->done) {
		if (loop_run_once(lp, 1000) < 0) {
			bsnprintf(err, errlen, "the loop failed");
			goto out;
		}
	}
	rc = 0;
out:
	smtp_client_free(sc);
	https_client_free(hc);
	return rc;
}

int main(int argc, char **argv)
{
	struct args a;
	struct wait w;
	struct loop *lp = NULL;
	struct tlscert_store *st = NULL;
	json_t *out = NULL;
	char err[256] = "";
	time_t now = time(NULL);
	int rc = 2;

	if (parse_args(argc, argv, &a) != 0)
		return usage();
	memset(&w, 0, sizeof(w));
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "probe: cannot initialise libcurl\n");
		return 2;
	}
	lp = loop_new(NULL);
	if (!lp) {
		bsnprintf(err, sizeof(err), "cannot create the loop");
		goto out;
	}
	st = tlscert_store_new(a.ca, err, sizeof(err));
	if (!st || run_probe(&a, lp, st, &w, now, err, sizeof(err)) != 0)
		goto out;
	out = json_pack("{s:s, s:s, s:I}", "probe", a.kind, "ip", a.ip, "port", (json_int_t)a.port);
	json_object_set_new(out, "facts", strcmp(a.kind, "smtp") == 0 ? smtp_json(&w.smtp) :
			    fetch_json(&w.fetch));
	json_object_set_new(out, "findings", judge_json(&a, &w, now));
	if (output_json_line(stdout, out) == 0)
		rc = 0;
out:
	if (rc != 0 && err[0])
		fprintf(stderr, "probe: %s\n", err);
	json_decref(out);
	free(w.fetch.body);
	tlscert_store_free(st);
	if (lp)
		loop_free(lp);
	curl_global_cleanup();
	return rc;
}

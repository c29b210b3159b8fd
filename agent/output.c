/* output: a domain's verdict as readable text or as one JSON object per line. */
#include "output.h"
#include "checks/senders.h"
#include "lib/defs.h"
#include "lib/str.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

#include <string.h>
#include <sys/socket.h>


int output_format_parse(const char *s)
{
	if (strcmp(s, "text") == 0)
		return OUT_TEXT;
	if (strcmp(s, "json") == 0)
		return OUT_JSON;
	return -1;
}

json_t *json_str(const char *s)
{
	json_t *j;
	char *copy;

	if (!s)
		return json_null();
	j = json_string(s);
	if (j)
		return j;
	copy = xstrdup(s);
	sanitize_printable(copy);
	j = json_string(copy);
	free(copy);
	return j ? j : json_null();
}

json_t *json_time(time_t t)
{
	char buf[32];

	if (!t)
		return json_null();
	return json_string(time_rfc3339(t, buf, sizeof(buf)));
}

static json_t *json_or_null(const char *s)
{
	return s && s[0] ? json_str(s) : json_null();
}

static json_t *cert_json(const struct cert_facts *cf)
{
	json_t *o;
	char problems[512];

	if (!cf->present)
		return json_null();
	o = json_object();
	cert_problems_str(cf, problems, sizeof(problems));
	json_object_set_new(o, "subject", json_str(cf->subject));
	json_object_set_new(o, "issuer", json_str(cf->issuer));
	json_object_set_new(o, "dns_names", json_str(cf->sans));
	json_object_set_new(o, "not_before", json_time(cf->not_before));
	json_object_set_new(o, "not_after", json_time(cf->not_after));
	json_object_set_new(o, "sha256", json_str(cf->sha256));
	json_object_set_new(o, "chain_length", json_integer(cf->chain_len));
	json_object_set_new(o, "valid", json_boolean(cf->problems == 0));
	json_object_set_new(o, "problems", json_or_null(problems));
	return o;
}

static json_t *policy_json(const struct domain_facts *df, const struct verdict *v)
{
	const struct policy_fetch *pf = &df->fetch;
	json_t *o, *mx;

	if (pf->rc == FETCH_NOT_ASKED)
		return json_null();
	o = json_object();
	json_object_set_new(o, "url", json_str(pf->url));
	json_object_set_new(o, "fetch", json_str(fetch_result_str(pf->rc)));
	json_object_set_new(o, "error", json_or_null(pf->error));
	json_object_set_new(o, "step", json_or_null(fetch_step_str(pf->step)));
	json_object_set_new(o, "ip", json_or_null(pf->ip));
	json_object_set_new(o, "http_status", pf->http_status ? json_integer(pf->http_status) : json_null());
	json_object_set_new(o, "content_type", json_or_null(pf->content_type));
	json_object_set_new(o, "location", json_or_null(pf->location));
	json_object_set_new(o, "time_ms", json_integer(pf->total_ms));
	json_object_set_new(o, "tls_version", json_or_null(pf->tls_version));
	json_object_set_new(o, "sha256", json_or_null(v->policy_sha256));
	json_object_set_new(o, "valid", json_boolean(v->have_policy && v->policy.valid));
	json_object_set_new(o, "mode", v->have_policy && v->policy.mode ?
			    json_string(policy_mode_str(v->policy.mode)) : json_null());
	json_object_set_new(o, "max_age", v->have_policy && v->policy.max_age >= 0 ?
			    json_integer(v->policy.max_age) : json_null());
	mx = json_array();
	for (size_t i = 0; v->have_policy && i < v->policy.n_mx; i++)
		json_array_append_new(mx, json_str(v->policy.mx[i]));
	json_object_set_new(o, "mx", mx);
	json_object_set_new(o, "cert_not_after", json_time(pf->cert.present ? pf->cert.not_after : 0));
	json_object_set_new(o, "cert", cert_json(&pf->cert));
	return o;
}

static json_t *mx_json(const struct domain_facts *df, const struct verdict *v)
{
	const struct policy *mp = verdict_mx_policy(v);
	json_t *arr = json_array();

	for (size_t i = 0; i < df->n_mx; i++) {
		const struct mx_host_facts *m = &df->mx[i];
		const struct mx_verdict *mv = i < v->n_mx ? &v->mx[i] : NULL;
		json_t *o = json_object(), *addrs = json_array();

		json_object_set_new(o, "host", json_str(m->name));
		json_object_set_new(o, "preference", json_integer(m->preference));
		json_object_set_new(o, "matched", mv && mp && mp->n_mx ?
				    json_boolean(mv->matched) : json_null());
		json_object_set_new(o, "pattern", mv && mp && mv->pattern >= 0 && mv->pattern < (int)mp->n_mx ?
				    json_str(mp->mx[mv->pattern]) : json_null());
		json_object_set_new(o, "valid", mv ? json_boolean(mv->valid) : json_null());
		json_object_set_new(o, "valid_until", json_time(mv ? mv->valid_until : 0));
		json_object_set_new(o, "dns", json_str(m->pending == MX_PENDING_DNS ? "pending" :
			m->addrs.n ? "ok" : dns_result_str(m->addrs.rc4)));
		json_object_set_new(o, "pending", m->pending ? json_str(mx_pending_str(m->pending)) :
				    json_null());
		for (size_t a = 0; a < m->n_smtp; a++) {
			const struct smtp_facts *s = &m->smtp[a];
			json_t *ao = json_object();

			json_object_set_new(ao, "ip", json_str(s->ip));
			json_object_set_new(ao, "family", json_integer(s->family == AF_INET6 ? 6 : 4));
			json_object_set_new(ao, "result", json_str(smtp_result_str(s->rc)));
			json_object_set_new(ao, "stage", json_str(smtp_stage_str(s->stage)));
			json_object_set_new(ao, "banner", json_or_null(s->banner));
			json_object_set_new(ao, "starttls", json_boolean(s->starttls_offered));
			json_object_set_new(ao, "tls_version", json_or_null(s->tls_version));
			json_object_set_new(ao, "cipher", json_or_null(s->cipher));
			json_object_set_new(ao, "cert_not_after",
					    json_time(s->cert.present ? s->cert.not_after : 0));
			json_object_set_new(ao, "cert", cert_json(&s->cert));
			json_object_set_new(ao, "error", json_or_null(s->error));
			json_object_set_new(ao, "time_ms", json_integer(s->time_ms));
			json_array_append_new(addrs, ao);
		}
		json_object_set_new(o, "addresses", addrs);
		json_array_append_new(arr, o);
	}
	return arr;
}

json_t *output_json_finding(const struct finding *f)
{
	json_t *o = json_object();

	json_object_set_new(o, "code", json_string(finding_code_str(f->code)));
	json_object_set_new(o, "severity", json_string(severity_str(f->sev)));
	json_object_set_new(o, "subject", json_str(f->subject));
	json_object_set_new(o, "message", json_str(f->message));
	json_object_set_new(o, "what", json_str(f->what));
	json_object_set_new(o, "evidence", json_str(f->evidence));
	json_object_set_new(o, "consequence", json_str(f->consequence));
	json_object_set_new(o, "fix", json_str(f->fix));
	if (f->senders_rules)
		json_object_set_new(o, "senders", output_json_senders(f));
	return o;
}

/* The ids of the columns in mask, in table order. */
static json_t *sender_ids(unsigned mask)
{
	json_t *a = json_array();

	for (int s = 0; s < S__COUNT; s++)
		if (mask & SENDER_BIT(s))
			json_array_append_new(a, json_string(sender_id((enum sender)s)));
	return a;
}

json_t *output_json_senders(const struct finding *f)
{
	json_t *o = json_object(), *rules = json_array();

	for (int r = SR_NONE + 1; r < SR__COUNT && r < 64; r++)
		if (f->senders_rules & (1ULL << r))
			json_array_append_new(rules, json_string(sender_profile((enum sender_rule)r)->id));
	json_object_set_new(o, "accept", sender_ids(f->senders_accept));
	json_object_set_new(o, "reject", sender_ids(f->senders_reject));
	json_object_set_new(o, "other", sender_ids(f->senders_other));
	json_object_set_new(o, "unknown", sender_ids(SENDERS_ALL & ~(f->senders_accept |
					f->senders_reject | f->senders_other)));
	json_object_set_new(o, "rules", rules);
	return o;
}

/* The cached policy senders keep enforcing when none is usable now, or null. */
static json_t *cached_json(const struct verdict *v)
{
	json_t *o, *mx;

	if (!v->under_cache)
		return json_null();
	o = json_object();
	mx = json_array();
	for (size_t i = 0; i < v->cached.n_mx; i++)
		json_array_append_new(mx, json_str(v->cached.mx[i]));
	json_object_set_new(o, "txt_id", json_str(v->cached_id));
	json_object_set_new(o, "mode", json_string(policy_mode_str(v->cached.mode)));
	json_object_set_new(o, "max_age", json_integer(v->cached.max_age));
	json_object_set_new(o, "mx", mx);
	json_object_set_new(o, "last_fetched", json_time(v->cached_fetched));
	json_object_set_new(o, "held_until", json_time(v->protection_ends));
	return o;
}

json_t *output_json_domain(const struct domain_facts *df, const struct verdict *v)
{
	json_t *o = json_object(), *fs = json_array(), *tr;

	json_object_set_new(o, "domain", json_str(df->domain));
	json_object_set_new(o, "status", json_string(status_str(v->status)));
	json_object_set_new(o, "mode", v->mode ? json_string(policy_mode_str(v->mode)) : json_null());
	json_object_set_new(o, "txt_id", v->txt.valid ? json_str(v->txt.id) : json_null());
	json_object_set_new(o, "fails_at", json_time(v->fails_at));
	json_object_set_new(o, "fails_reason", json_or_null(v->fails_why));
	json_object_set_new(o, "protection_ends_at", json_time(v->protection_ends));
	json_object_set_new(o, "cached_policy", cached_json(v));
	json_object_set_new(o, "checked_at", json_time(df->checked_at));
	/* not measured when the deadline left MX hosts unprobed */
	json_object_set_new(o, "valid_paths", v->mx_pending ? json_null() :
			    json_integer(v->valid_paths));
	json_object_set_new(o, "pending", df->deadline_hit ? json_str(df->pending) : json_null());
	/* the MX hosts the answer named; the "mx" array holds the ones probed */
	json_object_set_new(o, "mx_total", json_integer((json_int_t)(df->mx_total > df->n_mx ?
							  df->mx_total : df->n_mx)));
	for (size_t i = 0; i < v->findings.n; i++)
		json_array_append_new(fs, output_json_finding(&v->findings.v[i]));
	json_object_set_new(o, "findings", fs);
	json_object_set_new(o, "policy", policy_json(df, v));
	if (df->tlsrpt_txt.rc != DNS_NOT_ASKED) {
		json_t *rua = json_array();

		tr = json_object();
		json_object_set_new(tr, "valid", json_boolean(v->tlsrpt.valid));
		for (size_t i = 0; i < v->tlsrpt.n_rua; i++)
			json_array_append_new(rua, json_str(v->tlsrpt.rua[i]));
		json_object_set_new(tr, "rua", rua);
		json_object_set_new(o, "tlsrpt", tr);
	} else {
		json_object_set_new(o, "tlsrpt", json_null());
	}
	json_object_set_new(o, "mx", mx_json(df, v));
	return o;
}

int output_json_line(FILE *f, json_t *j)
{
	if (json_dumpf(j, f, JSON_COMPACT | JSON_ENSURE_ASCII) < 0 || fputc('\n', f) == EOF)
		return -1;
	return 0;
}

/* "2026-12-14 (15 days left)", "2026-11-25 (expired 3 days ago)": lib/timeutil's count. */
static const char *days_str(time_t t, time_t now, char *buf, size_t len)
{
	char iso[32], span[48];

	time_rfc3339(t, iso, sizeof(iso));
	iso[10] = '\0';
	time_span_str(t, now, span, sizeof(span));
	if (t >= now)
		bsnprintf(buf, len, "%s (%s left)", iso, span);
	else
		bsnprintf(buf, len, "%s (expired %s ago)", iso, span);
	return buf;
}

/* Print a message wrapped at about 96 columns with the given indent. */
static void wrap(FILE *f, const char *text, int indent)
{
	const int width = 96;
	int col = indent;
	const char *p = text;

	fprintf(f, "%*s", indent, "");
	while (*p) {
		size_t w = strcspn(p, " ");

		if (col > indent && col + (int)w + 1 > width) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, w, f);
		col += (int)w;
		p += w;
		while (*p == ' ')
			p++;
	}
	fputc('\n', f);
}

void output_text_domain(FILE *f, const struct domain_facts *df, const struct verdict *v,
			time_t now, bool verbose)
{
	const struct policy_fetch *pf = &df->fetch;
	const struct policy *mp = verdict_mx_policy(v);
	char buf[128], iso[32];

	fprintf(f, "%s  %s", df->domain, status_str(v->status));
	fprintf(f, "  mode %s", v->mode ? policy_mode_str(v->mode) : "-");
	fprintf(f, "  id %s", v->txt.valid ? v->txt.id : "-");
	if (v->fails_at)
		fprintf(f, "  fails at %s", v->fails_at <= now ? "now" : time_rfc3339(v->fails_at, iso, sizeof(iso)));
	fputc('\n', f);

	if (pf->rc != FETCH_NOT_ASKED) {
		fprintf(f, "  policy   %s", pf->url);
		if (pf->rc == FETCH_OK) {
			fprintf(f, "  HTTP %ld %s  %.1fs", pf->http_status,
				pf->content_type[0] ? pf->content_type : "(no type)", pf->total_ms / 1000.0);
			if (v->have_policy && v->policy.max_age >= 0)
				fprintf(f, "  max_age %ld", v->policy.max_age);
		} else {
			fprintf(f, "  %s", fetch_result_str(pf->rc));
		}
		fputc('\n', f);
		if (v->have_policy && v->policy.n_mx) {
			fprintf(f, "           mx:");
			for (size_t i = 0; i < v->policy.n_mx; i++)
				fprintf(f, " %s", v->policy.mx[i]);
			fputc('\n', f);
		}
		if (pf->cert.present)
			fprintf(f, "           certificate: issuer %s, expires %s%s\n", pf->cert.issuer,
				days_str(pf->cert.not_after, now, buf, sizeof(buf)),
				pf->cert.problems ? ", NOT VALID" : "");
	}
	if (v->under_cache) {
		fprintf(f, "  cached   id %s, mode %s, max_age %ld, last fetched %s, held until %s\n",
			v->cached_id, policy_mode_str(v->cached.mode), v->cached.max_age,
			time_rfc3339(v->cached_fetched, iso, sizeof(iso)),
			time_rfc3339(v->protection_ends, buf, sizeof(buf)));
		if (v->cached.n_mx) {
			fprintf(f, "           mx:");
			for (size_t i = 0; i < v->cached.n_mx; i++)
				fprintf(f, " %s", v->cached.mx[i]);
			fputc('\n', f);
		}
	}
	for (size_t i = 0; i < df->n_mx; i++) {
		const struct mx_host_facts *m = &df->mx[i];
		const struct mx_verdict *mv = i < v->n_mx ? &v->mx[i] : NULL;

		fprintf(f, "  mx %-3d  %s", m->preference, m->name);
		if (mv && mp && mp->n_mx)
			fprintf(f, "  %s", mv->matched ? "matched" : v->under_cache ?
				"NOT IN CACHED POLICY" : "NOT IN POLICY");
		if (mv && mp && mv->pattern >= 0 && mv->pattern < (int)mp->n_mx)
			fprintf(f, " (%s)", mp->mx[mv->pattern]);
		if (m->pending)
			fprintf(f, "  pending (%s)", mx_pending_str(m->pending));
		else if (mv)
			fprintf(f, "  %s", mv->valid ? "valid path" : "no valid path");
		fputc('\n', f);
		if (m->pending)
			continue;
		if (!m->n_smtp)
			fprintf(f, "          no address (%s)\n", m->addrs.detail[0] ? m->addrs.detail :
				dns_result_str(m->addrs.rc4));
		for (size_t a = 0; a < m->n_smtp; a++) {
			const struct smtp_facts *s = &m->smtp[a];

			fprintf(f, "          %-16s ", s->ip);
			if (s->rc == SMTP_OK) {
				fprintf(f, "STARTTLS %s", s->tls_version);
				if (s->cert.present)
					fprintf(f, "  issuer %s  expires %s%s", s->cert.issuer,
						days_str(s->cert.not_after, now, buf, sizeof(buf)),
						s->cert.problems ? "  NOT VALID" : "");
			} else {
				fprintf(f, "%s: %s", smtp_result_str(s->rc), s->error);
			}
			fputc('\n', f);
			if (verbose && s->banner[0])
				fprintf(f, "          %16s banner: %s\n", "", s->banner);
		}
	}
	if (df->tlsrpt_txt.rc != DNS_NOT_ASKED && v->tlsrpt.valid) {
		fprintf(f, "  tls-rpt ");
		for (size_t i = 0; i < v->tlsrpt.n_rua; i++)
			fprintf(f, " %s", v->tlsrpt.rua[i]);
		fputc('\n', f);
	}
	for (size_t i = 0; i < v->findings.n; i++) {
		const struct finding *fi = &v->findings.v[i];

		if (fi->sev == SEV_INFO && !verbose)
			continue;
		fprintf(f, "  %-8s %s  %s\n", severity_str(fi->sev), finding_code_str(fi->code),
			fi->subject);
		wrap(f, fi->message, 11);
	}
	if (!verbose) {
		size_t notes = 0;

		for (size_t i = 0; i < v->findings.n; i++)
			notes += v->findings.v[i].sev == SEV_INFO;
		if (notes)
			fprintf(f, "  (%zu note%s; -v shows them)\n", notes, notes == 1 ? "" : "s");
	}
	if (v->fails_at)
		fprintf(f, "  fails at %s: %s\n", time_rfc3339(v->fails_at, iso, sizeof(iso)), v->fails_why);
	if (v->protection_ends)
		fprintf(f, "  protection ends at %s: the last senders drop the cached policy (id %s); "
			"senders without a copy deliver without MTA-STS already\n",
			time_rfc3339(v->protection_ends, iso, sizeof(iso)), v->cached_id);
	fputc('\n', f);
}

void summary_add(struct summary *s, enum status st, const char *domain)
{
	size_t n = s->counts[st]++;

	if (n < SUMMARY_NAMES)
		s->names[st][n] = xstrdup(domain);
	if (s->counts[0] + s->counts[1] + s->counts[2] + s->counts[3] == 1)
		s->worst = st;
	else
		s->worst = status_worst(s->worst, st);
}

void output_text_summary(FILE *f, const struct summary *s)
{
	static const enum status order[] = { STATUS_CRITICAL, STATUS_UNKNOWN, STATUS_WARNING,
					     STATUS_OK };

	for (size_t k = 0; k < ARRAY_LEN(order); k++) {
		enum status st = order[k];
		size_t n = s->counts[st];

		fprintf(f, "%-9s %5zu", status_str(st), n);
		for (size_t i = 0; i < n && i < SUMMARY_NAMES; i++)
			fprintf(f, "%s%s", i ? ", " : "  ", s->names[st][i]);
		if (n > SUMMARY_NAMES)
			fprintf(f, " and %zu more", n - SUMMARY_NAMES);
		fputc('\n', f);
	}
}

void summary_free(struct summary *s)
{
	for (int st = 0; st < 4; st++)
		for (size_t i = 0; i < SUMMARY_NAMES; i++)
			free(s->names[st][i]);
	memset(s, 0, sizeof(*s));
}

/* cmd_lint: "stswatch lint": validate a policy file or TXT records before publishing them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "output.h"
#include "checks/dnsname.h"
#include "checks/findings.h"
#include "checks/judge.h"
#include "checks/mx_match.h"
#include "checks/policy.h"
#include "checks/senders.h"
#include "checks/sts_txt.h"
#include "checks/tlsrpt.h"
#include "lib/defs.h"
#include "lib/dynbuf.h"
#include "lib/str.h"

enum { OPT_MX = 3000, OPT_LENIENT };

#define LINT_MAX_MX 64
#define LINT_HOST_LEN 256

/* An --mx host as given and as matched (its A-label when it was given with U-labels). */
struct lint_mx {
	const char *given;
	char host[LINT_HOST_LEN];
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: stswatch lint policy FILE|- [--mx HOST]... [--lenient] [--format text|json]\n"
		"       stswatch lint txt RECORD [RECORD...] [--lenient] [--format text|json]\n"
		"       stswatch lint tlsrpt RECORD [RECORD...] [--format text|json]\n"
		"Validate an MTA-STS policy file (RFC 8461 3.2) or the TXT records of _mta-sts\n"
		"(RFC 8461 3.1) or _smtp._tls (RFC 8460 3) before publishing them. With --mx, say\n"
		"which MX hosts the policy covers and why a pattern does not match (a host given\n"
		"with U-labels is matched as its A-label). Several RECORD arguments are several\n"
		"TXT records of the same name.\n"
		"\n"
		"Strict by default: what the RFC 8461 grammar or a listed sender (postfix-mta-sts-\n"
		"resolver, postfix-tlspol, maddy, mox, Stalwart, mailauth, Halon) rejects is an\n"
		"error, and the finding names who rejects it and who accepts it. --lenient reads\n"
		"it as most senders do and reports the difference at the note's own severity.\n"
		"\n"
		"Exit status: 0 valid, 1 valid with warnings, 2 senders would reject or ignore it,\n"
		"3 the input could not be read or the usage is wrong.\n");
}

/* Read a whole file (or stdin) up to max bytes; *toobig tells when more was there. */
static char *read_input(const char *path, size_t max, size_t *len, bool *toobig)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	struct dynbuf sb;
	char chunk[4096];
	size_t n;

	*toobig = false;
	if (!f)
		return NULL;
	dynbuf_init(&sb, max);
	dynbuf_append(&sb, "", 0);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (dynbuf_append(&sb, chunk, n) < 0) {
			*toobig = true;
			break;
		}
	if (ferror(f)) {
		if (f != stdin)
			fclose(f);
		dynbuf_free(&sb);
		return NULL;
	}
	if (f != stdin)
		fclose(f);
	*len = sb.len;
	return dynbuf_steal(&sb);
}

static json_t *findings_json(const struct findings *fs)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < fs->n; i++)
		json_array_append_new(arr, output_json_finding(&fs->v[i]));
	return arr;
}

static void findings_text(const struct findings *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		printf("%-8s %s  %s\n         %s\n", severity_str(fs->v[i].sev),
		       finding_code_str(fs->v[i].code), fs->v[i].subject, fs->v[i].message);
}

static int lint_exit(const struct findings *fs)
{
	enum status st = findings_status(fs);

	return st == STATUS_UNKNOWN ? EXIT_CRITICAL : cli_exit_for(st);
}

static int lint_policy(const char *path, const struct lint_mx *mx, size_t n_mx,
		       const struct judge_opts *jo, enum output_format fmt)
{
	struct findings fs;
	struct policy p;
	size_t len = 0;
	bool toobig;
	char *body = read_input(path, POLICY_MAX_BODY, &len, &toobig);
	const char *subject = strcmp(path, "-") == 0 ? "(stdin)" : path;
	json_t *cov = json_array();
	bool valid;
	int rc;

	if (!body) {
		fprintf(stderr, "stswatch lint: %s: cannot read: %s\n", path, strerror(errno));
		json_decref(cov);
		return EXIT_UNKNOWN;
	}
	judge_findings_init(jo, &fs);
	memset(&p, 0, sizeof(p));
	if (toobig) {
		struct finding_occurrence *fo = senders_add(&fs, F_POLICY_TOO_LARGE, SEV_CRITICAL,
							    subject, SR_FETCH_BODY_OVER_64K);

		finding_set_what(fo, "the file is larger than %d bytes", POLICY_MAX_BODY);
		finding_set_evidence(fo, "RFC 8461 3.3 lets senders stop reading at 64 KiB");
		finding_set_fix(fo, "serve the plain policy file only");
	} else {
		policy_parse(body, len, &p, &fs, subject);
	}
	valid = p.valid && !toobig && !senders_rejected(&fs);
	if (fmt == OUT_TEXT && !toobig)
		printf("%s: %s, mode %s, max_age %ld, %zu mx pattern%s\n", subject,
		       valid ? "valid" : p.valid ? "INVALID (some senders reject it)" : "INVALID",
		       policy_mode_str(p.mode), p.max_age, p.n_mx, p.n_mx == 1 ? "" : "s");
	for (size_t i = 0; i < n_mx && !toobig; i++) {
		const char *host = mx[i].host;
		int k = mx_match_any(p.mx, p.n_mx, host);
		json_t *o = json_object();
		char why[256] = "", as[LINT_HOST_LEN + 16] = "";

		if (strcmp(host, mx[i].given) != 0)
			bsnprintf(as, sizeof(as), " (as %s)", host);
		json_object_set_new(o, "host", json_str(host));
		if (as[0])
			json_object_set_new(o, "given", json_str(mx[i].given));
		json_object_set_new(o, "covered", json_boolean(k >= 0));
		json_object_set_new(o, "pattern", k >= 0 ? json_str(p.mx[k]) : json_null());
		if (k >= 0) {
			if (fmt == OUT_TEXT)
				printf("  mx %s%s: covered by \"%s\"\n", mx[i].given, as, p.mx[k]);
		} else {
			struct dynbuf sb;

			dynbuf_init(&sb, 2048);
			for (size_t q = 0; q < p.n_mx; q++) {
				mx_pattern_match(p.mx[q], host, why, sizeof(why));
				dynbuf_printf(&sb, "%s\"%s\": %s", q ? "; " : "", p.mx[q], why);
			}
			if (!p.n_mx)
				dynbuf_printf(&sb, "the policy has no mx pattern");
			if (fmt == OUT_TEXT)
				printf("  mx %s%s: NOT covered (%s)\n", mx[i].given, as, sb.buf);
			json_object_set_new(o, "reason", json_str(sb.buf));
			/* the judge's rule: as senders reading this policy in its mode see it */
			judge_mx_unmatched(&p, p.mode, host, &fs);
			dynbuf_free(&sb);
		}
		json_array_append_new(cov, o);
	}
	findings_sort(&fs);
	rc = lint_exit(&fs);
	if (fmt == OUT_JSON) {
		json_t *o = json_object(), *pm = json_array();

		for (size_t i = 0; i < p.n_mx; i++)
			json_array_append_new(pm, json_str(p.mx[i]));
		json_object_set_new(o, "kind", json_string("policy"));
		json_object_set_new(o, "input", json_str(subject));
		json_object_set_new(o, "status", json_string(status_str((enum status)rc)));
		json_object_set_new(o, "valid", json_boolean(valid));
		json_object_set_new(o, "strict", json_boolean(jo->view == VIEW_LINT_STRICT));
		json_object_set_new(o, "mode", p.mode ? json_string(policy_mode_str(p.mode)) : json_null());
		json_object_set_new(o, "max_age", p.max_age >= 0 && !toobig ? json_integer(p.max_age) : json_null());
		json_object_set_new(o, "mx", pm);
		json_object_set_new(o, "coverage", cov);
		json_object_set_new(o, "findings", findings_json(&fs));
		output_json_line(stdout, o);
		json_decref(o);
	} else {
		json_decref(cov);
		findings_text(&fs);
	}
	policy_free(&p);
	findings_free(&fs);
	free(body);
	return rc;
}

static int lint_records(bool tlsrpt, char **recs, size_t n, const struct judge_opts *jo,
			enum output_format fmt)
{
	const char *texts[64];
	size_t lens[64];
	struct findings fs;
	struct sts_txt st;
	struct tlsrpt tr;
	const char *subject = tlsrpt ? "_smtp._tls" : "_mta-sts";
	bool valid;
	int rc;

	if (n > ARRAY_LEN(texts)) {
		fprintf(stderr, "stswatch lint: at most %zu records\n", ARRAY_LEN(texts));
		return EXIT_UNKNOWN;
	}
	for (size_t i = 0; i < n; i++) {
		texts[i] = recs[i];
		lens[i] = strlen(recs[i]);
	}
	judge_findings_init(jo, &fs);
	memset(&st, 0, sizeof(st));
	memset(&tr, 0, sizeof(tr));
	if (tlsrpt)
		tlsrpt_select(texts, lens, n, &tr, &fs, subject);
	else
		sts_txt_select(texts, lens, n, &st, &fs, subject);
	findings_sort(&fs);
	rc = lint_exit(&fs);
	valid = (tlsrpt ? tr.valid : st.valid) && !senders_rejected(&fs);
	if (fmt == OUT_JSON) {
		json_t *o = json_object();

		json_object_set_new(o, "kind", json_string(tlsrpt ? "tlsrpt" : "txt"));
		json_object_set_new(o, "status", json_string(status_str((enum status)rc)));
		json_object_set_new(o, "valid", json_boolean(valid));
		if (!tlsrpt) {
			json_object_set_new(o, "strict", json_boolean(jo->view == VIEW_LINT_STRICT));
			json_object_set_new(o, "id", st.valid ? json_str(st.id) : json_null());
		}
		json_object_set_new(o, "findings", findings_json(&fs));
		output_json_line(stdout, o);
		json_decref(o);
	} else {
		if (tlsrpt)
			printf("%s: %s\n", subject, tr.valid ? "valid" : "INVALID");
		else if (st.valid)
			printf("%s: %s, id %s\n", subject, valid ? "valid" :
			       "INVALID (some senders reject it)", st.id);
		else
			printf("%s: INVALID\n", subject);
		findings_text(&fs);
	}
	tlsrpt_free(&tr);
	findings_free(&fs);
	return rc;
}

int cmd_lint(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "mx", required_argument, NULL, OPT_MX },
		{ "lenient", no_argument, NULL, OPT_LENIENT },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_common c = { 0 };
	static struct lint_mx mx[LINT_MAX_MX];
	struct judge_opts jo;
	size_t n_mx = 0;
	int opt;
	const char *what;

	judge_opts_defaults(&jo);
	jo.view = VIEW_LINT_STRICT;	/* authors publish what every listed sender reads */

	optind = 1;
	/* "+" is not used: options may follow the arguments, as in the examples */
	while ((opt = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
		int k = cli_common_opt(&c, opt, optarg, "lint");

		if (k < 0)
			return EXIT_UNKNOWN;
		if (k > 0)
			continue;
		switch (opt) {
		case OPT_MX:
			if (n_mx == LINT_MAX_MX) {
				cli_error("lint", "at most %d --mx hosts", LINT_MAX_MX);
				return EXIT_UNKNOWN;
			}
			/* a U-label host is meant as its A-label (IDNA 2008, libidn2) */
			if (dns_name_to_alabel(optarg, mx[n_mx].host, sizeof(mx[n_mx].host)) < 0 ||
			    !dns_name_valid(mx[n_mx].host)) {
				cli_error("lint", "--mx: \"%s\" is not a host name", optarg);
				return EXIT_UNKNOWN;
			}
			mx[n_mx++].given = optarg;
			break;
		case OPT_LENIENT:
			jo.view = VIEW_LINT_LENIENT;
			break;
		case OPT_HELP:
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_UNKNOWN;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_UNKNOWN;
	}
	what = argv[optind++];
	if (strcmp(what, "policy") == 0) {
		if (argc - optind != 1) {
			cli_error("lint", "lint policy takes one FILE (or - for standard input)");
			return EXIT_UNKNOWN;
		}
		return lint_policy(argv[optind], mx, n_mx, &jo, c.format);
	}
	if (strcmp(what, "txt") == 0 || strcmp(what, "tlsrpt") == 0) {
		if (optind >= argc) {
			cli_error("lint", "lint %s takes one or more records", what);
			return EXIT_UNKNOWN;
		}
		if (n_mx) {
			cli_error("lint", "--mx applies to lint policy only");
			return EXIT_UNKNOWN;
		}
		return lint_records(strcmp(what, "tlsrpt") == 0, argv + optind, (size_t)(argc - optind),
				    &jo, c.format);
	}
	cli_error("lint", "unknown kind \"%s\" (policy, txt, tlsrpt)", what);
	return EXIT_UNKNOWN;
}

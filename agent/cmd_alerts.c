/* cmd_alerts: "stswatch alerts": the outbox and its history, silences, a test message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "deliver.h"
#include "output.h"
#include "store.h"
#include "checks/dnsname.h"
#include "checks/findings.h"
#include "lib/str.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

enum { OPT_DOMAIN = 7000, OPT_STATE, OPT_LIMIT, OPT_CODE, OPT_FOR, OPT_REASON };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: stswatch alerts [list] [--domain D] [--state S] [--limit N] [--format text|json]\n"
		"       stswatch alerts silence DOMAIN [--code CODE] --for DURATION --reason TEXT\n"
		"       stswatch alerts unsilence DOMAIN [--code CODE]\n"
		"       stswatch alerts test RECEIVER\n"
		"List the outbox and the alert history (pending, sent, failed, expired, with attempts,\n"
		"the last answer or error and the next try) and the silences in force; hold the\n"
		"notifications of a domain (or one finding code of it) for a while, or end that; send\n"
		"a test message to a receiver now and say what it answered.\n"
		"\n"
		"  -c, --config FILE   configuration (default " CONFIG_DEFAULT_PATH ")\n"
		"      --db FILE       database\n"
		"Exit status: 0 done; 1 an error (the message says which).\n");
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

static int list(struct store *st, const char *domain, const char *state, long limit,
		enum output_format fmt)
{
	struct store_silence *sil = NULL;
	size_t n_sil = 0;
	json_t *rows = NULL;
	time_t now = time(NULL);
	int rc = 1;

	if (store_outbox_list(st, domain, state, (size_t)limit, &rows) < 0 ||
	    store_silences_active(st, domain, now, &sil, &n_sil) < 0) {
		cli_error("alerts", "%s", store_error(st));
		goto out;
	}
	if (fmt == OUT_JSON) {
		for (size_t i = 0; i < json_array_size(rows); i++)
			output_json_line(stdout, json_array_get(rows, i));
		for (size_t i = 0; i < n_sil; i++) {
			json_t *o = json_object();

			json_object_set_new(o, "silence", json_integer(sil[i].id));
			json_object_set_new(o, "domain", json_str(sil[i].domain));
			json_object_set_new(o, "code", sil[i].code[0] ? json_str(sil[i].code) : json_null());
			json_object_set_new(o, "until", json_time(sil[i].until));
			json_object_set_new(o, "reason", json_str(sil[i].reason));
			output_json_line(stdout, o);
			json_decref(o);
		}
		rc = 0;
		goto out;
	}
	printf("%-20s %-10s %-12s %-28s %-9s %3s  %-20s %s\n", "created", "receiver", "kind",
	       "domain", "state", "try", "next/sent", "last answer");
	for (size_t i = 0; i < json_array_size(rows); i++) {
		json_t *o = json_array_get(rows, i);
		const char *st_ = jstr(o, "state");
		bool pending = strcmp(st_, "pending") == 0;

		json_t *code = json_object_get(o, "last_code");
		char answer[340];

		if (json_is_integer(code))
			bsnprintf(answer, sizeof(answer), "%lld %s", (long long)json_integer_value(code),
				  json_is_string(json_object_get(o, "last_error")) ?
				  jstr(o, "last_error") : "");
		else
			bsnprintf(answer, sizeof(answer), "%s", jstr(o, "last_error"));
		printf("%-20s %-10s %-12s %-28s %-9s %3lld  %-20s %s\n", jstr(o, "created_at"),
		       jstr(o, "receiver"), jstr(o, "kind"), jstr(o, "domain"), st_,
		       (long long)json_integer_value(json_object_get(o, "attempts")),
		       pending ? jstr(o, "next_at") : jstr(o, "sent_at"), answer);
	}
	if (!json_array_size(rows))
		printf("(no notifications%s%s)\n", domain ? " for " : "", domain ? domain : "");
	for (size_t i = 0; i < n_sil; i++)
		printf("silence %lld: %s%s%s until %s: %s\n", (long long)sil[i].id, sil[i].domain,
		       sil[i].code[0] ? " " : "", sil[i].code,
		       time_rfc3339(sil[i].until, (char[32]){ 0 }, 32), sil[i].reason);
	rc = 0;
out:
	json_decref(rows);
	free(sil);
	return rc;
}

static int silence(struct store *st, const char *domain, const char *code, const char *dur,
		   const char *reason)
{
	unsigned secs;
	time_t now = time(NULL);
	int64_t id = 0;

	if (!dur || config_parse_duration(dur, &secs) < 0 || secs == 0 || secs > 366u * 86400) {
		cli_error("alerts", "--for: give a duration from 1s to 366d (\"2h\", \"3d\")");
		return 1;
	}
	if (!reason || !*reason) {
		cli_error("alerts", "--reason: say why, for whoever reads the silence later");
		return 1;
	}
	if (store_silence_add(st, domain, code, now + secs, reason, now, &id) < 0) {
		cli_error("alerts", "%s", store_error(st));
		return 1;
	}
	printf("silence %lld: notifications for %s%s%s held until %s (%s)\n", (long long)id,
	       domain, code ? " " : "", code ? code : "",
	       time_rfc3339(now + secs, (char[32]){ 0 }, 32), reason);
	return 0;
}

static int unsilence(struct store *st, const char *domain, const char *code)
{
	size_t ended = 0;

	if (store_silence_end(st, domain, code, time(NULL), &ended) < 0) {
		cli_error("alerts", "%s", store_error(st));
		return 1;
	}
	printf("%zu silence%s of %s%s%s ended; what they held is told at the next check\n", ended,
	       ended == 1 ? "" : "s", domain, code ? " " : "", code ? code : "");
	return 0;
}

int cmd_alerts(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "db", required_argument, NULL, OPT_DB },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "domain", required_argument, NULL, OPT_DOMAIN },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "code", required_argument, NULL, OPT_CODE },
		{ "for", required_argument, NULL, OPT_FOR },
		{ "reason", required_argument, NULL, OPT_REASON },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_common c = { 0 };
	struct config cfg;
	struct store *st = NULL;
	const char *domain = NULL, *state = NULL, *code = NULL, *dur = NULL, *reason = NULL, *what;
	char err[640], *ldomain = NULL;
	long limit = 50;
	int opt, rc = 1;

	config_defaults(&cfg);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:f:h", longopts, NULL)) != -1) {
		int k = cli_common_opt(&c, opt, optarg, "alerts");

		if (k < 0)
			goto out;
		if (k > 0)
			continue;
		switch (opt) {
		case OPT_DOMAIN:
			domain = optarg;
			break;
		case OPT_STATE:
			state = optarg;
			break;
		case OPT_LIMIT:
			if (parse_long(optarg, 1, 100000, &limit) < 0) {
				cli_error("alerts", "--limit: a number from 1 to 100000");
				goto out;
			}
			break;
		case OPT_CODE:
			if (finding_code_parse(optarg) < 0) {
				cli_error("alerts", "--code: \"%s\" is not a finding code", optarg);
				goto out;
			}
			code = optarg;
			break;
		case OPT_FOR:
			dur = optarg;
			break;
		case OPT_REASON:
			reason = optarg;
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
	what = optind < argc ? argv[optind++] : "list";
	if (cli_load_config(&cfg, &c, false) < 0)
		goto out;
	if (strcmp(what, "list") == 0) {
		if (optind < argc) {
			cli_error("alerts", "unexpected argument \"%s\"", argv[optind]);
			goto out;
		}
		st = store_open(cfg.database, STORE_READ, err, sizeof(err));
		if (!st) {
			cli_error("alerts", "%s", err);
			goto out;
		}
		rc = list(st, domain, state, limit, c.format);
		goto out;
	}
	if (strcmp(what, "silence") == 0 || strcmp(what, "unsilence") == 0) {
		if (optind + 1 != argc || !mail_domain_valid(argv[optind])) {
			cli_error("alerts", "%s takes one domain", what);
			goto out;
		}
		ldomain = xstrdup(argv[optind]);
		ascii_lower(ldomain);
		/* a plain writer, not a runner: it works while the daemon runs */
		st = store_open(cfg.database, STORE_WRITE, err, sizeof(err));
		if (!st) {
			cli_error("alerts", "%s", err);
			goto out;
		}
		rc = strcmp(what, "silence") == 0 ? silence(st, ldomain, code, dur, reason) :
		     unsilence(st, ldomain, code);
		goto out;
	}
	if (strcmp(what, "test") == 0) {
		if (optind + 1 != argc) {
			cli_error("alerts", "test takes one receiver name");
			goto out;
		}
		rc = deliver_test(&cfg, argv[optind]);
		goto out;
	}
	cli_error("alerts", "unknown action \"%s\" (list, silence, unsilence, test)", what);
	usage(stderr);
out:
	free(ldomain);
	store_close(st);
	config_free(&cfg);
	return rc;
}

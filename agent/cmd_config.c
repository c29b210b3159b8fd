/* cmd_config: "stswatch config check": validate a configuration file. */
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "lib/str.h"
#include "alerts/channel.h"
#include "lib/xalloc.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: stswatch config check [-c FILE]\n"
		"Read the configuration (default " CONFIG_DEFAULT_PATH ") and report every error\n"
		"with its file, line and setting. Exit status 0 when valid, 1 when not.\n");
}

/*
 * Receivers as the channels will use them (a webhook secret that decodes, addresses), and
 * the out-of-band warning: a receiver whose every mail recipient is in a watched domain
 * may never get the alert, since the failure it reports can stop that mail too.
 */
static int check_receivers(const struct config *cfg, const char *path)
{
	int rc = 0;

	for (size_t i = 0; i < cfg->n_receivers; i++) {
		const struct receiver_conf *rc_ = &cfg->receivers[i];
		struct receiver r;
		char err[400];
		size_t inside = 0;

		memset(&r, 0, sizeof(r));
		r.name = rc_->name;
		r.kind = (enum channel_kind)channel_kind_parse(rc_->type);
		r.url = rc_->url;
		r.secret = rc_->secret;
		r.headers = rc_->headers;
		r.n_headers = rc_->n_headers;
		r.from = rc_->from;
		r.to = rc_->to;
		r.n_to = rc_->n_to;
		r.username = rc_->username;
		r.password = rc_->password;
		if (channel_receiver_check(&r, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s:%d: receivers: %s\n", path, rc_->line, err);
			rc = -1;
			continue;
		}
		for (size_t k = 0; k < rc_->n_to; k++) {
			const char *at = strrchr(rc_->to[k], '@');
			const char *dom = at ? at + 1 : "";
			bool watched = false;

			/* the address's domain, or a parent of it, is watched */
			for (const char *p = dom; p && *p && !watched; p = strchr(p, '.') ? strchr(p, '.') + 1 : NULL)
				watched = config_find_domain(cfg, p) != NULL;
			inside += watched;
		}
		if (rc_->n_to && inside == rc_->n_to)
			printf("%s:%d: warning: every recipient of receiver %s is in a watched domain: "
			       "the failure it reports can stop this very mail; add a recipient "
			       "outside them (or a webhook) so you still hear of it\n", path,
			       rc_->line, rc_->name);
	}
	return rc;
}

int cmd_config(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct config cfg;
	const char *path = CONFIG_DEFAULT_PATH;
	char err[512];
	int opt, rc = 1;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_CONFIG:
			path = optarg;
			break;
		case OPT_HELP:
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind >= argc || strcmp(argv[optind], "check") != 0 || optind + 1 != argc) {
		usage(stderr);
		return 1;
	}
	config_defaults(&cfg);
	if (config_load(&cfg, path, err, sizeof(err)) < 0) {
		char line[2048];

		controls_escape(line, sizeof(line), err, NULL);	/* the path is the user's */
		fprintf(stderr, "%s\n", line);
		goto out;
	}
	if (cfg.ca_file && access(cfg.ca_file, R_OK) < 0) {
		fprintf(stderr, "%s: ca_file: %s cannot be read\n", path, cfg.ca_file);
		goto out;
	}
	{
		char *copy = xstrdup(cfg.database);
		const char *dir = dirname(copy);
		bool ok = access(dir, W_OK) == 0;

		if (!ok)
			printf("%s: note: the database directory %s is not writable by this user "
			       "(the run command creates it when it can)\n", path, dir);
		free(copy);
	}
	if (check_receivers(&cfg, path) < 0)
		goto out;
	printf("%s: valid: %zu domain%s, resolver %s, CA %s, database %s\n", path, cfg.n_domains,
	       cfg.n_domains == 1 ? "" : "s", cfg.resolver ? cfg.resolver : "from /etc/resolv.conf",
	       cfg.ca_file ? cfg.ca_file : "system bundle", cfg.database);
	rc = 0;
out:
	config_free(&cfg);
	return rc;
}

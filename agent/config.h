/* config: the configuration file (libconfig), its defaults and the list of domains. */
#ifndef STSWATCH_CONFIG_H
#define STSWATCH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "checks/judge.h"

#ifndef STSWATCH_SYSCONFDIR
#define STSWATCH_SYSCONFDIR "/etc"
#endif
#ifndef STSWATCH_LOCALSTATEDIR
#define STSWATCH_LOCALSTATEDIR "/var"
#endif
#define CONFIG_DEFAULT_PATH STSWATCH_SYSCONFDIR "/stswatch/stswatch.conf"
#define CONFIG_DEFAULT_DB STSWATCH_LOCALSTATEDIR "/lib/stswatch/stswatch.db"
#define CONFIG_MAX_DOMAINS 1000000

struct timeouts {
	unsigned dns_ms;	/* one DNS attempt */
	unsigned dns_tries;
	unsigned policy_ms;	/* the whole policy fetch (RFC 8461 suggests one minute) */
	unsigned smtp_connect_ms;
	unsigned smtp_step_ms;	/* banner, EHLO, STARTTLS, handshake: each */
};

struct domain_conf {
	char *name;		/* lower case, no trailing dot */
	unsigned interval;	/* seconds between checks */
	struct judge_opts judge;
	int line;		/* where it was configured, 0 for the command line */
};

struct config {
	char *path;		/* the file read, NULL when none */
	char *resolver;		/* "ADDR[:PORT][,ADDR...]", NULL: /etc/resolv.conf */
	char *ca_file;		/* NULL: the system bundle */
	char *database;
	char *ehlo_name;	/* NULL: the host name */
	unsigned concurrency;	/* domains in flight */
	bool ipv6;		/* probe IPv6 addresses of MX hosts */
	struct timeouts to;
	unsigned interval;	/* default seconds between checks of a domain */
	unsigned retention_days;
	struct judge_opts judge;	/* global thresholds */
	size_t n_domains, cap_domains;
	struct domain_conf *domains;
	size_t *index, cap_index;	/* hash of names: slot holds domain index + 1 */
};

/* Fill every setting with its built-in default and no domains. */
void config_defaults(struct config *cfg);
/*
 * Read a configuration file over the defaults. On error returns -1 with a message naming
 * the file, the line and the setting in err.
 */
int config_load(struct config *cfg, const char *path, char *err, size_t errlen);
/* Add one domain with the global settings; -1 with err when the name is not a domain. */
int config_add_domain(struct config *cfg, const char *name, char *err, size_t errlen);
/* Add every domain of a file, one per line ('#' comments); err names file and line. */
int config_add_domains_file(struct config *cfg, const char *path, char *err, size_t errlen);
/* Parse a resolver list "ADDR[:PORT][,...]" (IPv6 as [ADDR]:PORT); 0 when valid. */
int config_resolver_valid(const char *s, char *err, size_t errlen);
/* Parse a duration: seconds, or a number with s, m, h or d; 0 on success. */
int config_parse_duration(const char *s, unsigned *secs);
/* The configured domain of that name, or NULL. */
const struct domain_conf *config_find_domain(const struct config *cfg, const char *name);
/* Free everything the configuration owns. */
void config_free(struct config *cfg);

#endif

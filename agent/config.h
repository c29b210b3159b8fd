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
/* Larger files are refused before libconfig sees them: its scanner is quadratic in the
 * length of one token (a 2 MB comment takes seconds, 50 MB half an hour). */
#define CONFIG_MAX_BYTES (10L * 1024 * 1024)

struct timeouts {
	unsigned dns_ms;	/* one DNS attempt */
	unsigned dns_tries;
	unsigned policy_ms;	/* the whole policy fetch (RFC 8461 suggests one minute) */
	unsigned smtp_connect_ms;
	unsigned smtp_step_ms;	/* banner, EHLO, STARTTLS, handshake: each */
};

/* Which receivers hear of a domain: indices into config.receivers. */
struct route {
	size_t n;
	size_t *idx;
};

/* One receiver of notifications (stswatch.conf(5), "receivers"). */
struct receiver_conf {
	char *name;
	char *type;		/* webhook, slack, teams, ntfy, alertmanager, email */
	char *url;
	char *secret;		/* webhook key "whsec_...", or a bearer token: from a file */
	char *secret_source;	/* where it came from (a path or a credential), never the value */
	char *username;		/* email AUTH */
	char *password;		/* from password_file or a credential */
	char *from;
	char **to;
	size_t n_to;
	char **headers;		/* extra "Name: value" headers (webhook) */
	size_t n_headers;
	char *ca_file;		/* NULL: the global ca_file, else the system's */
	char *proxy;		/* an explicit proxy for this receiver; never from the environment */
	char *priority;		/* ntfy */
	char **tags;		/* ntfy */
	size_t n_tags;
	char *timezone;		/* for the digest; NULL: the alerts timezone */
	int digest_min;		/* minute of the day of the daily digest, -1: none */
	int min_status;		/* enum status: the least severe status it is told of */
	unsigned timeout_ms;	/* per request */
	int line;		/* where it was configured */
};

/* Settings of the alert state machine and the delivery (stswatch.conf(5), "alerts"). */
struct alerts_conf {
	unsigned confirm;		/* consecutive checks that confirm a transient failure */
	size_t n_remind;
	int remind_days[8];
	unsigned repeat_interval;	/* seconds; 0: no repeats */
	unsigned unknown_after;		/* seconds of "could not tell" before it is told */
	unsigned max_pending;		/* seconds a notification may wait for its receiver */
	unsigned timeout_ms;		/* default per-request timeout */
	unsigned email_batch;		/* seconds an email waits for others of the same run */
	unsigned alertmanager_resend;	/* seconds between re-sends of firing alerts */
	char *timezone;			/* for digests; NULL: the system's */
	int operator_receiver;		/* index of the receiver told of inconclusive runs, -1 */
};

struct domain_conf {
	char *name;		/* lower case, no trailing dot */
	unsigned interval;	/* seconds between checks */
	struct judge_opts judge;
	struct route own_route;		/* its own notify = [...], when has_route */
	bool has_route;
	int group;		/* index in config.groups, -1 */
	int line;		/* where it was configured, 0 for the command line */
};

/* A group of domains with shared settings and receivers. */
struct group_conf {
	char *name;
	struct route route;
	bool has_route;
	int line;
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
	unsigned retry_interval;	/* seconds before re-checking a domain that turned bad */
	unsigned shutdown_timeout;	/* seconds SIGTERM waits for checks in flight */
	char *metrics_file;	/* Prometheus textfile written after each cycle; NULL: none */
	char *heartbeat_url;	/* pinged after each cycle (+ "/fail" on failure); NULL: none */
	int log_level;		/* enum log_level of the daemon; -1: not set */
	struct judge_opts judge;	/* global thresholds */
	size_t n_receivers;
	struct receiver_conf *receivers;
	struct route route;		/* the default route (notify = [...]) */
	struct alerts_conf alerts;
	size_t n_groups;
	struct group_conf *groups;
	size_t n_domains, cap_domains;
	struct domain_conf *domains;
	size_t *index, cap_index;	/* hash of names: slot holds domain index + 1 */
};

/* Fill every setting with its built-in default and no domains. */
void config_defaults(struct config *cfg);
/*
 * Read a configuration file over the defaults. On error returns -1 with a message naming
 * the file, the line and the setting in err. A file larger than CONFIG_MAX_BYTES, or one
 * with a NUL byte (which would end libconfig's reading silently), is refused unparsed.
 */
int config_load(struct config *cfg, const char *path, char *err, size_t errlen);
/* Add one domain with the global settings; -1 with err when the name is not a domain. */
int config_add_domain(struct config *cfg, const char *name, char *err, size_t errlen);
/* Parse a resolver list "ADDR[:PORT][,...]" (IPv6 as [ADDR]:PORT); 0 when valid. */
int config_resolver_valid(const char *s, char *err, size_t errlen);
/* Parse a duration: seconds, or a number with s, m, h or d; 0 on success. */
int config_parse_duration(const char *s, unsigned *secs);
/* The configured domain of that name, or NULL. */
const struct domain_conf *config_find_domain(const struct config *cfg, const char *name);
/* Who hears of a domain: its own notify, else its group's, else the default. */
const struct route *config_domain_route(const struct config *cfg, const struct domain_conf *d);
/* The receiver of that name, or NULL. */
const struct receiver_conf *config_find_receiver(const struct config *cfg, const char *name);
/* Free everything the configuration owns. */
void config_free(struct config *cfg);

#endif

/* config: the configuration file (libconfig), its defaults and the list of domains. */
#include "config.h"
#include "config_int.h"
#include "checks/dnsname.h"
#include "lib/log.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>


void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->database = xstrdup(CONFIG_DEFAULT_DB);
	cfg->concurrency = 500;
	cfg->ipv6 = true;
	cfg->to.dns_ms = 5000;
	cfg->to.dns_tries = 2;
	cfg->to.policy_ms = 60000;
	cfg->to.smtp_connect_ms = 15000;
	cfg->to.smtp_step_ms = 30000;
	cfg->interval = 3600;
	cfg->retention_days = 400;
	cfg->retry_interval = 300;
	cfg->shutdown_timeout = 10;
	cfg->log_level = -1;
	judge_opts_defaults(&cfg->judge);
	cfg->alerts.confirm = 2;
	cfg->alerts.n_remind = 5;
	memcpy(cfg->alerts.remind_days, (const int[]){ 14, 7, 3, 1, 0 }, 5 * sizeof(int));
	cfg->alerts.repeat_interval = 86400;
	cfg->alerts.unknown_after = 6 * 3600;
	cfg->alerts.max_pending = 3 * 86400;
	cfg->alerts.timeout_ms = 15000;
	cfg->alerts.email_batch = 60;
	cfg->alerts.alertmanager_resend = 300;
	cfg->alerts.operator_receiver = -1;
}

static int parse_duration_ms(const char *s, uint64_t *ms)
{
	char *end;
	double v, mult = 1000;

	errno = 0;
	v = strtod(s, &end);
	/* strtod takes "nan" and "inf" too: only a number from 0 to ten years goes on */
	if (errno || end == s || !(v >= 0 && v <= 10 * 365 * 86400.0))
		return -1;
	if (strcmp(end, "ms") == 0)
		mult = 1;
	else if (*end == '\0' || strcmp(end, "s") == 0)
		mult = 1000;
	else if (strcmp(end, "m") == 0)
		mult = 60000;
	else if (strcmp(end, "h") == 0)
		mult = 3600000;
	else if (strcmp(end, "d") == 0)
		mult = 86400000;
	else
		return -1;
	*ms = (uint64_t)(v * mult + 0.5);
	return 0;
}

int config_parse_duration(const char *s, unsigned *secs)
{
	uint64_t ms;

	if (parse_duration_ms(s, &ms) < 0 || ms / 1000 > 0xffffffffu)
		return -1;
	*secs = (unsigned)(ms / 1000);
	return 0;
}

static int inet_pton_any(const char *host, unsigned char *buf)
{
	if (inet_pton(AF_INET, host, buf) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, host, buf) == 1)
		return AF_INET6;
	return -1;
}

/* Why an address cannot be a resolver to send questions to, or NULL. */
static const char *resolver_addr_why(int family, const unsigned char *a)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const unsigned char zero[16] = { 0 };

	if (family == AF_INET6 && memcmp(a, mapped, sizeof(mapped)) == 0) {
		a += 12;	/* ::ffff:a.b.c.d is the IPv4 address */
		family = AF_INET;
	}
	if (family == AF_INET) {
		if (a[0] == 0)
			return "an unspecified address (0.0.0.0/8), not a resolver";
		if (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255)
			return "the broadcast address, not a resolver";
		if (a[0] >= 224 && a[0] <= 239)
			return "a multicast address (224.0.0.0/4), not a resolver";
		return NULL;
	}
	if (memcmp(a, zero, 16) == 0)
		return "the unspecified address (::), not a resolver";
	if (a[0] == 0xff)
		return "a multicast address (ff00::/8), not a resolver";
	return NULL;
}

static int resolver_one_valid(const char *s, size_t n, char *err, size_t errlen)
{
	char host[128], port[16] = "", shown[160];
	const char *colon, *why;
	unsigned char buf[16];
	int family;
	long p;

	if (n == 0 || n >= sizeof(host)) {
		bsnprintf(err, errlen, "empty or overlong resolver address");
		return -1;
	}
	/* the words quote what was written, control bytes and all, as printable text */
	printable_copy(shown, sizeof(shown), s, n);
	if (s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (!close) {
			bsnprintf(err, errlen, "\"%s\": missing ']' after an IPv6 address", shown);
			return -1;
		}
		bsnprintf(host, sizeof(host), "%.*s", (int)(close - s - 1), s + 1);
		if (close + 1 < s + n) {
			if (close[1] != ':') {
				bsnprintf(err, errlen, "\"%s\": expected ':PORT' after ']'", shown);
				return -1;
			}
			bsnprintf(port, sizeof(port), "%.*s", (int)(s + n - close - 2), close + 2);
		}
	} else {
		colon = memchr(s, ':', n);
		if (colon && memchr(colon + 1, ':', (size_t)(s + n - colon - 1))) {
			/* a bare IPv6 address without port */
			bsnprintf(host, sizeof(host), "%.*s", (int)n, s);
		} else if (colon) {
			bsnprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
			bsnprintf(port, sizeof(port), "%.*s", (int)(s + n - colon - 1), colon + 1);
		} else {
			bsnprintf(host, sizeof(host), "%.*s", (int)n, s);
		}
	}
	family = inet_pton_any(host, buf);
	if (family < 0) {
		printable_copy(shown, sizeof(shown), host, strlen(host));
		bsnprintf(err, errlen, "\"%s\" is not an IPv4 or IPv6 address", shown);
		return -1;
	}
	if ((why = resolver_addr_why(family, buf))) {
		printable_copy(shown, sizeof(shown), host, strlen(host));
		bsnprintf(err, errlen, "\"%s\" is %s", shown, why);
		return -1;
	}
	if (port[0] && parse_long(port, 1, 65535, &p) < 0) {
		printable_copy(shown, sizeof(shown), port, strlen(port));
		bsnprintf(err, errlen, "\"%s\" is not a port number (1-65535)", shown);
		return -1;
	}
	return 0;
}

int config_resolver_valid(const char *s, char *err, size_t errlen)
{
	const char *p = s;

	if (!*s) {
		bsnprintf(err, errlen, "empty resolver list");
		return -1;
	}
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		if (resolver_one_valid(p, n, err, errlen) < 0)
			return -1;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

int config_set_err(char *err, size_t errlen, const config_setting_t *s, const char *path,
		   const char *what)
{
	const char *file = s ? config_setting_source_file(s) : NULL;
	const char *name = s ? config_setting_name(s) : NULL;

	bsnprintf(err, errlen, "%s:%d: %s%s%s", file ? file : path,
		  s ? (int)config_setting_source_line(s) : 0, name ? name : "",
		  name ? ": " : "", what);
	return -1;
}

/*
 * A duration setting: an integer (seconds), a float, or a string with a unit. The range
 * is checked on a double, rounded as it will be stored, before any conversion: a huge
 * value (1e999, or an integer whose milliseconds pass 2^64) is out of range, not wrapped.
 */
int config_get_duration_ms(const config_setting_t *s, const char *path, uint64_t lo,
			   uint64_t hi, uint64_t *out, char *err, size_t errlen)
{
	uint64_t parsed;
	double ms;
	char what[160], shown[32];

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		if (config_setting_get_int64(s) < 0)
			return config_set_err(err, errlen, s, path, "must not be negative");
		ms = (double)config_setting_get_int64(s) * 1000.0;
		break;
	case CONFIG_TYPE_FLOAT:
		if (config_setting_get_float(s) < 0)
			return config_set_err(err, errlen, s, path, "must not be negative");
		ms = config_setting_get_float(s) * 1000.0;
		break;
	case CONFIG_TYPE_STRING:
		if (parse_duration_ms(config_setting_get_string(s), &parsed) < 0)
			return config_set_err(err, errlen, s, path,
				       "not a duration (seconds, or a number with ms, s, m, h or d)");
		ms = (double)parsed;
		break;
	default:
		return config_set_err(err, errlen, s, path, "expected a duration such as 30, \"90s\" or \"1h\"");
	}
	/* (uint64_t)(ms + 0.5) is in [lo, hi] exactly when this holds; false for NaN */
	if (!(ms + 0.5 >= (double)lo && ms + 0.5 < (double)hi + 1)) {
		if (ms / 1000 < 1e9)
			bsnprintf(shown, sizeof(shown), "%.3f", ms / 1000);
		else
			bsnprintf(shown, sizeof(shown), "%.4g", ms / 1000);
		bsnprintf(what, sizeof(what), "%s s is out of range (%.3f to %.0f s)", shown,
			  (double)lo / 1000, (double)hi / 1000);
		return config_set_err(err, errlen, s, path, what);
	}
	*out = (uint64_t)(ms + 0.5);
	return 0;
}

int config_get_number(const config_setting_t *s, const char *path, double lo, double hi,
		      double *out, char *err, size_t errlen)
{
	double v;
	char what[128];

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v = (double)config_setting_get_int64(s);
		break;
	case CONFIG_TYPE_FLOAT:
		v = config_setting_get_float(s);
		break;
	default:
		return config_set_err(err, errlen, s, path, "expected a number");
	}
	if (!(v >= lo && v <= hi)) {	/* NaN too */
		bsnprintf(what, sizeof(what), "%g is out of range (%g to %g)", v, lo, hi);
		return config_set_err(err, errlen, s, path, what);
	}
	*out = v;
	return 0;
}

int config_get_string(const config_setting_t *s, const char *path, char **out, char *err,
		      size_t errlen)
{
	const char *v;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return config_set_err(err, errlen, s, path, "expected a string in double quotes");
	v = config_setting_get_string(s);
	if (!*v)
		return config_set_err(err, errlen, s, path, "must not be empty");
	free(*out);
	*out = xstrdup(v);
	return 0;
}

int config_get_bool(const config_setting_t *s, const char *path, bool *out, char *err,
		    size_t errlen)
{
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return config_set_err(err, errlen, s, path, "expected true or false");
	*out = config_setting_get_bool(s);
	return 0;
}

static int load_thresholds(const config_setting_t *g, const char *path, struct judge_opts *o,
			   char *err, size_t errlen)
{
	if (!config_setting_is_group(g))
		return config_set_err(err, errlen, g, path, "expected a group { ... }");
	for (int i = 0; i < config_setting_length(g); i++) {
		config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s);
		uint64_t ms;
		int rc;

		if (strcmp(name, "warning_days") == 0)
			rc = config_get_number(s, path, 0, 3650, &o->warn_days, err, errlen);
		else if (strcmp(name, "critical_days") == 0)
			rc = config_get_number(s, path, 0, 3650, &o->crit_days, err, errlen);
		else if (strcmp(name, "warning_fraction") == 0)
			rc = config_get_number(s, path, 0, 1, &o->warn_frac, err, errlen);
		else if (strcmp(name, "critical_fraction") == 0)
			rc = config_get_number(s, path, 0, 1, &o->crit_frac, err, errlen);
		else if (strcmp(name, "policy_slow") == 0) {
			rc = config_get_duration_ms(s, path, 1, 600000, &ms, err, errlen);
			if (rc == 0)
				o->slow_ms = (unsigned)ms;
		} else if (strcmp(name, "tlsrpt") == 0)
			rc = config_get_bool(s, path, &o->tlsrpt, err, errlen);
		else
			rc = config_set_err(err, errlen, s, path,
				     "unknown setting (known: warning_days, critical_days, "
				     "warning_fraction, critical_fraction, policy_slow, tlsrpt)");
		if (rc < 0)
			return -1;
	}
	if (o->crit_days > o->warn_days) {
		bsnprintf(err, errlen, "%s:%d: thresholds: critical_days (%g) is above warning_days (%g)",
			  path, config_setting_source_line(g), o->crit_days, o->warn_days);
		return -1;
	}
	return 0;
}

static int load_timeouts(const config_setting_t *g, const char *path, struct timeouts *to,
			 char *err, size_t errlen)
{
	if (!config_setting_is_group(g))
		return config_set_err(err, errlen, g, path, "expected a group { ... }");
	for (int i = 0; i < config_setting_length(g); i++) {
		config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s);
		uint64_t ms = 0;
		double tries;
		int rc;

		if (strcmp(name, "dns_tries") == 0) {
			rc = config_get_number(s, path, 1, 10, &tries, err, errlen);
			if (rc == 0)
				to->dns_tries = (unsigned)tries;
			if (rc < 0)
				return -1;
			continue;
		}
		rc = config_get_duration_ms(s, path, 50, 600000, &ms, err, errlen);
		if (rc < 0)
			return -1;
		if (strcmp(name, "dns") == 0)
			to->dns_ms = (unsigned)ms;
		else if (strcmp(name, "policy") == 0)
			to->policy_ms = (unsigned)ms;
		else if (strcmp(name, "smtp_connect") == 0)
			to->smtp_connect_ms = (unsigned)ms;
		else if (strcmp(name, "smtp_step") == 0)
			to->smtp_step_ms = (unsigned)ms;
		else
			return config_set_err(err, errlen, s, path,
				       "unknown setting (known: dns, dns_tries, policy, "
				       "smtp_connect, smtp_step)");
	}
	return 0;
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a over the lower-cased name */

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c + 32);
		h = (h ^ c) * 1099511628211ull;
	}
	return h;
}

static void index_insert(struct config *cfg, size_t idx)
{
	size_t mask = cfg->cap_index - 1, i = (size_t)name_hash(cfg->domains[idx].name) & mask;

	while (cfg->index[i])
		i = (i + 1) & mask;
	cfg->index[i] = idx + 1;
}

/* Grow (and rebuild, new entry included) when half full; false when nothing was done. */
static bool index_grow(struct config *cfg)
{
	if (cfg->n_domains * 2 < cfg->cap_index)
		return false;
	free(cfg->index);
	cfg->cap_index = cfg->cap_index ? cfg->cap_index * 2 : 64;
	cfg->index = xcalloc(cfg->cap_index, sizeof(*cfg->index));
	for (size_t i = 0; i < cfg->n_domains; i++)
		index_insert(cfg, i);
	return true;
}

/* What a domain inherits: the global settings, or its group's. */
struct domain_defaults {
	unsigned interval;
	struct judge_opts judge;
	int group;
};

static void global_defaults(const struct config *cfg, struct domain_defaults *dd)
{
	dd->interval = cfg->interval;
	dd->judge = cfg->judge;
	dd->group = -1;
}

static struct domain_conf *domain_push(struct config *cfg, const char *name, int line,
				       char *err, size_t errlen, const char *where,
				       const struct domain_defaults *dd)
{
	struct domain_conf *d;
	const char *why;
	char *lname;
	size_t len;

	if ((why = mail_domain_why(name))) {
		char shown[80];

		printable_copy(shown, sizeof(shown), name, strlen(name));
		bsnprintf(err, errlen, "%s%s\"%s\" is not a domain name: %s", where ? where : "",
			  where ? ": " : "", shown, why);
		return NULL;
	}
	lname = xstrdup(name);
	ascii_lower(lname);
	len = strlen(lname);
	if (lname[len - 1] == '.')
		lname[len - 1] = '\0';
	d = (struct domain_conf *)config_find_domain(cfg, lname);
	if (d) {
		/* the same domain twice is one domain; the first settings win */
		free(lname);
		return d;
	}
	if (cfg->n_domains >= CONFIG_MAX_DOMAINS) {
		bsnprintf(err, errlen, "%s%smore than %d domains", where ? where : "",
			  where ? ": " : "", CONFIG_MAX_DOMAINS);
		free(lname);
		return NULL;
	}
	if (cfg->n_domains == cfg->cap_domains) {
		cfg->cap_domains = cfg->cap_domains ? cfg->cap_domains * 2 : 16;
		cfg->domains = xrealloc(cfg->domains, cfg->cap_domains * sizeof(*cfg->domains));
	}
	d = &cfg->domains[cfg->n_domains++];
	memset(d, 0, sizeof(*d));
	d->name = lname;
	if (dd) {
		d->interval = dd->interval;
		d->judge = dd->judge;
		d->group = dd->group;
	} else {
		d->interval = cfg->interval;
		d->judge = cfg->judge;
		d->group = -1;
	}
	d->line = line;
	if (!index_grow(cfg))
		index_insert(cfg, cfg->n_domains - 1);
	return d;
}

static int load_domains(struct config *cfg, const config_setting_t *list, const char *path,
			const struct domain_defaults *dd, char *err, size_t errlen)
{
	if (!config_setting_is_list(list) && !config_setting_is_array(list))
		return config_set_err(err, errlen, list, path,
			       "expected a list ( \"example.org\", { name = \"example.net\"; ... } )");
	for (int i = 0; i < config_setting_length(list); i++) {
		config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		int line = (int)config_setting_source_line(e);
		char where[300];
		struct domain_conf *d;
		const char *name = NULL;

		bsnprintf(where, sizeof(where), "%s:%d: domains", path, line);
		if (config_setting_type(e) == CONFIG_TYPE_STRING) {
			if (!domain_push(cfg, config_setting_get_string(e), line, err, errlen, where, dd))
				return -1;
			continue;
		}
		if (!config_setting_is_group(e)) {
			bsnprintf(err, errlen, "%s: each entry is a \"name\" or a group { name = ...; }",
				  where);
			return -1;
		}
		if (!config_setting_lookup_string(e, "name", &name)) {
			bsnprintf(err, errlen, "%s: entry without name = \"...\"", where);
			return -1;
		}
		d = domain_push(cfg, name, line, err, errlen, where, dd);
		if (!d)
			return -1;
		for (int j = 0; j < config_setting_length(e); j++) {
			config_setting_t *s = config_setting_get_elem(e, (unsigned)j);
			const char *key = config_setting_name(s);
			uint64_t ms;

			if (strcmp(key, "name") == 0)
				continue;
			if (strcmp(key, "interval") == 0) {
				if (config_get_duration_ms(s, path, 5000, 30ull * 86400000, &ms, err, errlen) < 0)
					return -1;
				d->interval = (unsigned)(ms / 1000);
			} else if (strcmp(key, "thresholds") == 0) {
				if (load_thresholds(s, path, &d->judge, err, errlen) < 0)
					return -1;
			} else if (strcmp(key, "notify") == 0) {
				if (config_load_route(cfg, s, path, &d->own_route, err, errlen) < 0)
					return -1;
				d->has_route = true;
			} else {
				return config_set_err(err, errlen, s, path,
					       "unknown domain setting (known: name, interval, "
					       "thresholds, notify)");
			}
		}
	}
	return 0;
}

/*
 * groups = ( { name = "acme"; notify = [ ... ]; interval = ...; thresholds = { ... };
 *              domains = ( ... ); } ): the group's settings are its domains' defaults.
 */
static int load_groups(struct config *cfg, const config_setting_t *list, const char *path,
		       char *err, size_t errlen)
{
	if (!config_setting_is_list(list))
		return config_set_err(err, errlen, list, path,
				      "expected a list ( { name = \"...\"; domains = ( ... ); } )");
	cfg->groups = xcalloc((size_t)config_setting_length(list) + 1, sizeof(*cfg->groups));
	for (int i = 0; i < config_setting_length(list); i++) {
		const config_setting_t *g = config_setting_get_elem(list, (unsigned)i), *doms = NULL;
		struct group_conf *gc = &cfg->groups[cfg->n_groups];
		struct domain_defaults dd;
		const char *name = NULL;
		uint64_t ms;

		if (!config_setting_is_group(g) || !config_setting_lookup_string(g, "name", &name) ||
		    !*name)
			return config_set_err(err, errlen, g ? g : list, path,
					      "each group is { name = \"...\"; domains = ( ... ); }");
		for (size_t k = 0; k < cfg->n_groups; k++)
			if (strcmp(cfg->groups[k].name, name) == 0)
				return config_set_err(err, errlen, g, path, "two groups have this name");
		gc->name = xstrdup(name);
		gc->line = (int)config_setting_source_line(g);
		cfg->n_groups++;
		global_defaults(cfg, &dd);
		dd.group = (int)(cfg->n_groups - 1);
		for (int j = 0; j < config_setting_length(g); j++) {
			const config_setting_t *s = config_setting_get_elem(g, (unsigned)j);
			const char *key = config_setting_name(s);

			if (strcmp(key, "name") == 0)
				continue;
			if (strcmp(key, "domains") == 0) {
				doms = s;
			} else if (strcmp(key, "notify") == 0) {
				if (config_load_route(cfg, s, path, &gc->route, err, errlen) < 0)
					return -1;
				gc->has_route = true;
			} else if (strcmp(key, "interval") == 0) {
				if (config_get_duration_ms(s, path, 5000, 30ull * 86400000, &ms, err,
							   errlen) < 0)
					return -1;
				dd.interval = (unsigned)(ms / 1000);
			} else if (strcmp(key, "thresholds") == 0) {
				if (load_thresholds(s, path, &dd.judge, err, errlen) < 0)
					return -1;
			} else {
				return config_set_err(err, errlen, s, path, "unknown group setting "
						      "(known: name, notify, interval, thresholds, "
						      "domains)");
			}
		}
		if (doms && load_domains(cfg, doms, path, &dd, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/*
 * The whole file, NUL-terminated, or NULL with err: unreadable, larger than limit bytes
 * (told before a byte is parsed; a pipe is read up to the limit), or holding a NUL byte.
 * libconfig is then given the text, not the file: its reading of a file is quadratic in
 * the length of a token (a 2 MB string took 2.4 s, a 10 MB comment 54 s), its reading of
 * a string is not.
 */
static char *read_whole(const char *path, long limit, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	struct stat st;
	char *buf = NULL, *nul;
	size_t len = 0, cap = 0, n;

	if (!f) {
		bsnprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > limit) {
		bsnprintf(err, errlen, "%s: %lld bytes, larger than the %ld a configuration may "
			  "have%s: not read", path, (long long)st.st_size, limit,
			  limit < CONFIG_MAX_BYTES ? " with the files it includes" : "");
		goto fail;
	}
	do {
		if (cap - len < 65536) {
			cap = cap ? 2 * cap : 65536;
			buf = xrealloc(buf, cap + 1);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (len > (size_t)limit) {
			bsnprintf(err, errlen, "%s: more than the %ld bytes a configuration may "
				  "have%s: not read", path, limit,
				  limit < CONFIG_MAX_BYTES ? " with the files it includes" : "");
			goto fail;
		}
	} while (n > 0);
	if (ferror(f)) {
		bsnprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		goto fail;
	}
	if ((nul = memchr(buf, '\0', len))) {
		int line = 1;

		for (const char *p = buf; p < nul; p++)
			line += *p == '\n';
		bsnprintf(err, errlen, "%s:%d: a NUL byte (offset %zu): a configuration is text",
			  path, line, (size_t)(nul - buf));
		goto fail;
	}
	buf[len] = '\0';
	fclose(f);
	return buf;
fail:
	free(buf);
	fclose(f);
	return NULL;
}

#define INCLUDE_DEPTH_MAX 10	/* libconfig's own limit */

/*
 * The files text names with @include (libconfig reads them itself, from the file): each
 * is read here first, and with the text they must fit in *budget bytes, recursively.
 */
static int includes_fit(const char *text, const char *path, int depth, long *budget,
			char *err, size_t errlen)
{
	int line = 1;

	for (const char *p = text; *p; line++) {
		const char *eol = strchr(p, '\n'), *q = p, *end;
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		char inc[4096], why[512], shown[640], *sub;
		int rc;

		end = p + n;
		p = eol ? eol + 1 : end;
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (end - q < 9 || memcmp(q, "@include", 8) != 0)
			continue;
		for (q += 8; q < end && (*q == ' ' || *q == '\t'); q++)
			;
		if (q >= end || *q != '"' || !memchr(q + 1, '"', (size_t)(end - q - 1)))
			continue;	/* libconfig says what is wrong with it */
		bsnprintf(inc, sizeof(inc), "%.*s",
			  (int)((const char *)memchr(q + 1, '"', (size_t)(end - q - 1)) - q - 1), q + 1);
		if (depth >= INCLUDE_DEPTH_MAX) {
			bsnprintf(err, errlen, "%s:%d: @include nested more than %d deep", path, line,
				  INCLUDE_DEPTH_MAX);
			return -1;
		}
		sub = read_whole(inc, *budget, why, sizeof(why));
		rc = sub ? 0 : -1;
		if (sub) {
			*budget -= (long)strlen(sub);
			rc = includes_fit(sub, inc, depth + 1, budget, why, sizeof(why));
			free(sub);
		}
		if (rc < 0) {
			/* the name comes from the file: shown as printable text */
			printable_copy(shown, sizeof(shown), why, strlen(why));
			bsnprintf(err, errlen, "%s:%d: @include: %s", path, line, shown);
			return -1;
		}
	}
	return 0;
}

int config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	config_t lc;
	config_setting_t *root, *domains = NULL, *groups = NULL;
	struct domain_defaults dd;
	char *text;
	long budget = CONFIG_MAX_BYTES;
	int rc = -1;

	config_init(&lc);
	text = read_whole(path, budget, err, errlen);
	if (!text)
		goto out;
	budget -= (long)strlen(text);
	if (includes_fit(text, path, 0, &budget, err, errlen) < 0)
		goto out;
	if (!config_read_string(&lc, text)) {
		bsnprintf(err, errlen, "%s:%d: %s", config_error_file(&lc) ? config_error_file(&lc) : path,
			  config_error_line(&lc), config_error_text(&lc));
		goto out;
	}
	free(cfg->path);
	cfg->path = xstrdup(path);
	root = config_root_setting(&lc);
	/* Global settings first: domains inherit the thresholds and interval wherever they are. */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < config_setting_length(root); i++) {
			config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
			const char *name = config_setting_name(s);
			uint64_t ms;
			double v;
			int r = 0;

			if (strcmp(name, "domains") == 0) {
				domains = s;
				continue;
			}
			if (strcmp(name, "groups") == 0) {
				groups = s;
				continue;
			}
			/* first what others refer to: defaults of domains, receivers of routes */
			if ((pass == 0) != (strcmp(name, "thresholds") == 0 ||
					    strcmp(name, "interval") == 0 ||
					    strcmp(name, "receivers") == 0))
				continue;
			if (strcmp(name, "resolver") == 0) {
				char why[200];

				r = config_get_string(s, path, &cfg->resolver, err, errlen);
				if (r == 0 && config_resolver_valid(cfg->resolver, why, sizeof(why)) < 0)
					r = config_set_err(err, errlen, s, path, why);
			} else if (strcmp(name, "ca_file") == 0)
				r = config_get_string(s, path, &cfg->ca_file, err, errlen);
			else if (strcmp(name, "database") == 0)
				r = config_get_string(s, path, &cfg->database, err, errlen);
			else if (strcmp(name, "ehlo_name") == 0) {
				r = config_get_string(s, path, &cfg->ehlo_name, err, errlen);
				if (r == 0 && !dns_name_valid(cfg->ehlo_name))
					r = config_set_err(err, errlen, s, path, "not a host name");
			} else if (strcmp(name, "concurrency") == 0) {
				r = config_get_number(s, path, 1, 10000, &v, err, errlen);
				if (r == 0)
					cfg->concurrency = (unsigned)v;
			} else if (strcmp(name, "ipv6") == 0)
				r = config_get_bool(s, path, &cfg->ipv6, err, errlen);
			else if (strcmp(name, "interval") == 0) {
				r = config_get_duration_ms(s, path, 5000, 30ull * 86400000, &ms, err, errlen);
				if (r == 0)
					cfg->interval = (unsigned)(ms / 1000);
			} else if (strcmp(name, "retry_interval") == 0) {
				r = config_get_duration_ms(s, path, 2000, 86400000, &ms, err, errlen);
				if (r == 0)
					cfg->retry_interval = (unsigned)(ms / 1000);
			} else if (strcmp(name, "shutdown_timeout") == 0) {
				r = config_get_duration_ms(s, path, 1000, 600000, &ms, err, errlen);
				if (r == 0)
					cfg->shutdown_timeout = (unsigned)(ms / 1000);
			} else if (strcmp(name, "metrics_file") == 0) {
				r = config_get_string(s, path, &cfg->metrics_file, err, errlen);
				if (r == 0 && cfg->metrics_file[0] != '/')
					r = config_set_err(err, errlen, s, path, "give an absolute path");
			} else if (strcmp(name, "heartbeat_url") == 0) {
				r = config_get_string(s, path, &cfg->heartbeat_url, err, errlen);
				if (r == 0 && strncmp(cfg->heartbeat_url, "https://", 8) != 0 &&
				    strncmp(cfg->heartbeat_url, "http://", 7) != 0)
					r = config_set_err(err, errlen, s, path, "expected an https:// URL");
			} else if (strcmp(name, "log_level") == 0) {
				const char *lv = config_setting_get_string(s);

				cfg->log_level = lv ? log_level_parse(lv) : -1;
				if (cfg->log_level < 0)
					r = config_set_err(err, errlen, s, path, "expected \"error\", "
							   "\"warning\", \"info\" or \"debug\"");
			} else if (strcmp(name, "retention_days") == 0) {
				r = config_get_number(s, path, 1, 36500, &v, err, errlen);
				if (r == 0)
					cfg->retention_days = (unsigned)v;
			} else if (strcmp(name, "timeouts") == 0)
				r = load_timeouts(s, path, &cfg->to, err, errlen);
			else if (strcmp(name, "thresholds") == 0)
				r = load_thresholds(s, path, &cfg->judge, err, errlen);
			else if (strcmp(name, "receivers") == 0)
				r = config_load_receivers(cfg, s, path, err, errlen);
			else if (strcmp(name, "notify") == 0)
				r = config_load_route(cfg, s, path, &cfg->route, err, errlen);
			else if (strcmp(name, "alerts") == 0)
				r = config_load_alerts(cfg, s, path, err, errlen);
			else
				r = config_set_err(err, errlen, s, path,
					    "unknown setting (known: resolver, ca_file, database, ehlo_name, "
					    "concurrency, ipv6, interval, retention_days, retry_interval, "
					    "shutdown_timeout, metrics_file, heartbeat_url, log_level, "
					    "timeouts, thresholds, receivers, notify, alerts, groups, domains)");
			if (r < 0)
				goto out;
		}
	}
	if (groups && load_groups(cfg, groups, path, err, errlen) < 0)
		goto out;
	global_defaults(cfg, &dd);
	if (domains && load_domains(cfg, domains, path, &dd, err, errlen) < 0)
		goto out;
	rc = 0;
out:
	free(text);
	config_destroy(&lc);
	return rc;
}

int config_add_domain(struct config *cfg, const char *name, char *err, size_t errlen)
{
	return domain_push(cfg, name, 0, err, errlen, NULL, NULL) ? 0 : -1;
}

const struct route *config_domain_route(const struct config *cfg, const struct domain_conf *d)
{
	if (d->has_route)
		return &d->own_route;
	if (d->group >= 0 && (size_t)d->group < cfg->n_groups && cfg->groups[d->group].has_route)
		return &cfg->groups[d->group].route;
	return &cfg->route;
}

const struct domain_conf *config_find_domain(const struct config *cfg, const char *name)
{
	size_t mask, i;

	if (!cfg->cap_index)
		return NULL;
	mask = cfg->cap_index - 1;
	for (i = (size_t)name_hash(name) & mask; cfg->index[i]; i = (i + 1) & mask) {
		const struct domain_conf *d = &cfg->domains[cfg->index[i] - 1];

		if (ascii_strcasecmp(d->name, name) == 0)
			return d;
	}
	return NULL;
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_domains; i++) {
		free(cfg->domains[i].name);
		free(cfg->domains[i].own_route.idx);
	}
	free(cfg->domains);
	config_free_alerts(cfg);
	free(cfg->index);
	free(cfg->path);
	free(cfg->resolver);
	free(cfg->ca_file);
	free(cfg->database);
	free(cfg->ehlo_name);
	free(cfg->metrics_file);
	free(cfg->heartbeat_url);
	memset(cfg, 0, sizeof(*cfg));
}

/* config_alerts: the receivers, routes and alert settings of the configuration file. */
#include <curl/curl.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config_int.h"
#include "checks/findings.h"
#include "lib/str.h"
#include "lib/xalloc.h"

#define SECRET_MAX 4096
#define RECEIVERS_MAX 1000

static const char *const receiver_types[] = { "webhook", "slack", "teams", "ntfy",
					      "alertmanager", "email" };

const struct receiver_conf *config_find_receiver(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_receivers; i++)
		if (strcmp(cfg->receivers[i].name, name) == 0)
			return &cfg->receivers[i];
	return NULL;
}

static bool name_ok(const char *s)
{
	if (!*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

static bool has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* A URL of one of the schemes, parsed by libcurl as it will be used; why in words. */
static bool url_ok(const char *url, const char *const *schemes, size_t n, char *why, size_t len)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	bool ok = false;

	if (!u || has_ctl(url) || strchr(url, ' ')) {
		bsnprintf(why, len, "not a URL (spaces or control characters)");
		goto out;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host[0]) {
		bsnprintf(why, len, "not a URL with a scheme and a host");
		goto out;
	}
	for (size_t i = 0; i < n && !ok; i++)
		ok = ascii_strcasecmp(scheme, schemes[i]) == 0;
	if (!ok) {
		bsnprintf(why, len, "the scheme must be %s%s%s%s", schemes[0], n > 1 ? " or " : "",
			  n > 1 ? schemes[1] : "", n > 2 ? " (or another listed one)" : "");
	}
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

/*
 * A secret from a file: an absolute path is read as it is; a relative name is looked up
 * in $CREDENTIALS_DIRECTORY first (systemd's LoadCredential=), then beside the
 * configuration file. Trailing newlines are dropped; the value is never printed.
 */
static int read_secret(const char *cfgpath, const char *name, char **out, char **source,
		       char *why, size_t len)
{
	char path[1024], buf[SECRET_MAX + 2];
	const char *creds = getenv("CREDENTIALS_DIRECTORY");
	FILE *f;
	size_t n;

	if (name[0] == '/') {
		bsnprintf(path, sizeof(path), "%s", name);
	} else {
		char *copy = xstrdup(cfgpath ? cfgpath : ".");

		path[0] = '\0';
		if (creds && *creds && !strchr(name, '/')) {
			bsnprintf(path, sizeof(path), "%s/%s", creds, name);
			if (access(path, F_OK) < 0)
				path[0] = '\0';
		}
		if (!path[0])
			bsnprintf(path, sizeof(path), "%s/%s", dirname(copy), name);
		free(copy);
	}
	f = fopen(path, "r");
	if (!f) {
		bsnprintf(why, len, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (n > SECRET_MAX) {
		bsnprintf(why, len, "%s: longer than %d bytes: not a secret", path, SECRET_MAX);
		return -1;
	}
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if (!n || memchr(buf, '\0', n) || has_ctl(buf)) {
		bsnprintf(why, len, "%s: %s", path, n ? "holds control characters or NUL bytes" :
			  "is empty");
		memset(buf, 0, sizeof(buf));
		return -1;
	}
	free(*out);
	*out = xstrdup(buf);
	free(*source);
	*source = xstrdup(path);
	memset(buf, 0, sizeof(buf));
	return 0;
}

static int string_list(const config_setting_t *s, const char *path, char ***out, size_t *n,
		       size_t max, char *err, size_t errlen)
{
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return config_set_err(err, errlen, s, path, "expected a list of strings [ \"...\" ]");
	if ((size_t)config_setting_length(s) > max)
		return config_set_err(err, errlen, s, path, "too many entries");
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v = config_setting_get_string(e);

		if (!v || !*v || has_ctl(v))
			return config_set_err(err, errlen, s, path,
					      "expected non-empty strings without control characters");
		*out = xrealloc(*out, (*n + 1) * sizeof(**out));
		(*out)[(*n)++] = xstrdup(v);
	}
	return 0;
}

/* "user@example.org": enough to refuse a header injection or a typo, not RFC 5322. */
static bool address_ok(const char *a)
{
	const char *at = strrchr(a, '@');

	if (!at || at == a || !at[1] || strlen(a) > 254 || has_ctl(a) || strpbrk(a, " <>,;\"()"))
		return false;
	return strchr(at + 1, '.') != NULL;
}

static bool header_ok(const char *h)
{
	const char *colon = strchr(h, ':');

	if (!colon || colon == h || has_ctl(h))
		return false;
	for (const char *p = h; p < colon; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-'))
			return false;
	return true;
}

static bool timezone_ok(const char *tz)
{
	char path[300];
	struct stat sb;

	if (strstr(tz, "..") || tz[0] == '/' || has_ctl(tz) || strlen(tz) > 100)
		return false;
	if (strcmp(tz, "UTC") == 0)
		return true;
	bsnprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz);
	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* "08:00" as minutes of the day; -1 when not HH:MM. */
static int clock_minutes(const char *s)
{
	int h, m;
	char tail;

	if (sscanf(s, "%2d:%2d%c", &h, &m, &tail) != 2 || h < 0 || h > 23 || m < 0 || m > 59 ||
	    strlen(s) != 5)
		return -1;
	return h * 60 + m;
}

static int status_setting(const config_setting_t *s, const char *path, int *out, char *err,
			  size_t errlen)
{
	const char *v = config_setting_get_string(s);
	int st = v ? status_parse(v) : -1;

	if (st < 0 || st == STATUS_OK)
		return config_set_err(err, errlen, s, path, "expected \"WARNING\", \"UNKNOWN\" or "
				      "\"CRITICAL\"");
	*out = st;
	return 0;
}

static int receiver_setting(struct config *cfg, struct receiver_conf *r,
			    const config_setting_t *s, const char *path, char *err, size_t errlen)
{
	const char *key = config_setting_name(s);
	char why[400];
	uint64_t ms;

	if (strcmp(key, "name") == 0 || strcmp(key, "type") == 0)
		return 0;	/* read first */
	if (strcmp(key, "url") == 0)
		return config_get_string(s, path, &r->url, err, errlen);
	if (strcmp(key, "secret_file") == 0 || strcmp(key, "token_file") == 0 ||
	    strcmp(key, "password_file") == 0) {
		const char *v = config_setting_get_string(s);
		char **dst = strcmp(key, "password_file") == 0 ? &r->password : &r->secret;
		char *src = NULL;

		if (!v || !*v)
			return config_set_err(err, errlen, s, path, "expected a file name");
		if (read_secret(cfg->path, v, dst, &src, why, sizeof(why)) < 0)
			return config_set_err(err, errlen, s, path, why);
		if (dst == &r->secret) {
			free(r->secret_source);
			r->secret_source = src;
		} else {
			free(src);
		}
		return 0;
	}
	if (strcmp(key, "secret") == 0 || strcmp(key, "password") == 0 || strcmp(key, "token") == 0)
		return config_set_err(err, errlen, s, path, "secrets are not written in the "
				      "configuration: put it in a file (secret_file, password_file, "
				      "token_file) or a systemd credential (LoadCredential=)");
	if (strcmp(key, "username") == 0)
		return config_get_string(s, path, &r->username, err, errlen);
	if (strcmp(key, "from") == 0) {
		if (config_get_string(s, path, &r->from, err, errlen) < 0)
			return -1;
		return address_ok(r->from) ? 0 : config_set_err(err, errlen, s, path,
								 "not a mail address (user@example.org)");
	}
	if (strcmp(key, "to") == 0) {
		if (string_list(s, path, &r->to, &r->n_to, 100, err, errlen) < 0)
			return -1;
		for (size_t i = 0; i < r->n_to; i++)
			if (!address_ok(r->to[i]))
				return config_set_err(err, errlen, s, path,
						      "not a mail address (user@example.org)");
		return 0;
	}
	if (strcmp(key, "headers") == 0) {
		if (string_list(s, path, &r->headers, &r->n_headers, 32, err, errlen) < 0)
			return -1;
		for (size_t i = 0; i < r->n_headers; i++)
			if (!header_ok(r->headers[i]))
				return config_set_err(err, errlen, s, path,
						      "expected \"Name: value\" headers");
		return 0;
	}
	if (strcmp(key, "ca_file") == 0) {
		if (config_get_string(s, path, &r->ca_file, err, errlen) < 0)
			return -1;
		return access(r->ca_file, R_OK) == 0 ? 0 :
		       config_set_err(err, errlen, s, path, "cannot read the file");
	}
	if (strcmp(key, "proxy") == 0) {
		static const char *const schemes[] = { "http", "https", "socks5", "socks5h" };

		if (config_get_string(s, path, &r->proxy, err, errlen) < 0)
			return -1;
		return url_ok(r->proxy, schemes, 4, why, sizeof(why)) ? 0 :
		       config_set_err(err, errlen, s, path, why);
	}
	if (strcmp(key, "priority") == 0) {
		static const char *const prio[] = { "min", "low", "default", "high", "urgent",
						    "1", "2", "3", "4", "5" };
		bool ok = false;

		if (config_get_string(s, path, &r->priority, err, errlen) < 0)
			return -1;
		for (size_t i = 0; i < sizeof(prio) / sizeof(prio[0]); i++)
			ok |= strcmp(prio[i], r->priority) == 0;
		return ok ? 0 : config_set_err(err, errlen, s, path,
					       "expected min, low, default, high, urgent or 1-5");
	}
	if (strcmp(key, "tags") == 0)
		return string_list(s, path, &r->tags, &r->n_tags, 16, err, errlen);
	if (strcmp(key, "timezone") == 0) {
		if (config_get_string(s, path, &r->timezone, err, errlen) < 0)
			return -1;
		return timezone_ok(r->timezone) ? 0 : config_set_err(err, errlen, s, path,
			"not a time zone of /usr/share/zoneinfo (for example \"Europe/Berlin\")");
	}
	if (strcmp(key, "digest") == 0) {
		const char *v = config_setting_get_string(s);

		r->digest_min = v ? clock_minutes(v) : -1;
		return r->digest_min >= 0 ? 0 : config_set_err(err, errlen, s, path,
							      "expected a local time \"HH:MM\"");
	}
	if (strcmp(key, "min_severity") == 0)
		return status_setting(s, path, &r->min_status, err, errlen);
	if (strcmp(key, "timeout") == 0) {
		if (config_get_duration_ms(s, path, 1000, 300000, &ms, err, errlen) < 0)
			return -1;
		r->timeout_ms = (unsigned)ms;
		return 0;
	}
	return config_set_err(err, errlen, s, path, "unknown receiver setting (known: name, type, "
			      "url, secret_file, token_file, username, password_file, from, to, "
			      "headers, ca_file, proxy, priority, tags, min_severity, timeout, "
			      "digest, timezone)");
}

/* Settings that only make sense together, checked once the receiver is read. */
static int receiver_complete(const struct receiver_conf *r, const config_setting_t *e,
			     const char *path, char *err, size_t errlen)
{
	static const char *const https[] = { "https", "http" };
	static const char *const smtp[] = { "smtp", "smtps" };
	bool email = strcmp(r->type, "email") == 0;
	char why[300];

	if (!r->url)
		return config_set_err(err, errlen, e, path, "the receiver needs a url");
	if (!url_ok(r->url, email ? smtp : https, 2, why, sizeof(why)))
		return config_set_err(err, errlen, e, path, why);
	if (email) {
		if (!r->from || !r->n_to)
			return config_set_err(err, errlen, e, path, "an email receiver needs from "
					      "and to");
		if (r->username && !r->password)
			return config_set_err(err, errlen, e, path, "username without password_file");
	} else if (r->from || r->n_to || r->username || r->password) {
		return config_set_err(err, errlen, e, path, "from, to, username and password_file "
				      "are for email receivers");
	}
	if (strcmp(r->type, "webhook") == 0 && r->secret && strncmp(r->secret, "whsec_", 6) != 0)
		return config_set_err(err, errlen, e, path, "a webhook secret is \"whsec_\" followed "
				      "by base64, as Standard Webhooks");
	if (r->n_headers && strcmp(r->type, "webhook") != 0)
		return config_set_err(err, errlen, e, path, "headers are for webhook receivers");
	return 0;
}

int config_load_receivers(struct config *cfg, const config_setting_t *list, const char *path,
			  char *err, size_t errlen)
{
	if (!config_setting_is_list(list))
		return config_set_err(err, errlen, list, path,
				      "expected a list ( { name = \"...\"; type = \"...\"; ... } )");
	if (config_setting_length(list) > RECEIVERS_MAX)
		return config_set_err(err, errlen, list, path, "too many receivers");
	for (int i = 0; i < config_setting_length(list); i++) {
		const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		const char *name = NULL, *type = NULL;
		struct receiver_conf *r;
		bool known = false;

		if (!config_setting_is_group(e))
			return config_set_err(err, errlen, list, path, "each receiver is a group { ... }");
		if (!config_setting_lookup_string(e, "name", &name) || !name_ok(name))
			return config_set_err(err, errlen, e, path, "a receiver needs a name = \"...\" "
					      "of letters, digits, '-', '_' or '.'");
		if (config_find_receiver(cfg, name))
			return config_set_err(err, errlen, e, path, "two receivers have this name");
		if (!config_setting_lookup_string(e, "type", &type))
			return config_set_err(err, errlen, e, path, "a receiver needs a type");
		for (size_t k = 0; k < sizeof(receiver_types) / sizeof(receiver_types[0]); k++)
			known |= strcmp(type, receiver_types[k]) == 0;
		if (!known)
			return config_set_err(err, errlen, config_setting_get_member(e, "type"), path,
					      "unknown type (webhook, slack, teams, ntfy, "
					      "alertmanager, email)");
		cfg->receivers = xrealloc(cfg->receivers, (cfg->n_receivers + 1) * sizeof(*r));
		r = &cfg->receivers[cfg->n_receivers++];
		memset(r, 0, sizeof(*r));
		r->name = xstrdup(name);
		r->type = xstrdup(type);
		r->digest_min = -1;
		r->min_status = STATUS_WARNING;
		r->timeout_ms = cfg->alerts.timeout_ms;
		r->line = (int)config_setting_source_line(e);
		for (int j = 0; j < config_setting_length(e); j++)
			if (receiver_setting(cfg, r, config_setting_get_elem(e, (unsigned)j), path,
					     err, errlen) < 0)
				return -1;
		if (receiver_complete(r, e, path, err, errlen) < 0)
			return -1;
	}
	return 0;
}

int config_load_route(const struct config *cfg, const config_setting_t *s, const char *path,
		      struct route *out, char *err, size_t errlen)
{
	free(out->idx);
	out->idx = NULL;
	out->n = 0;
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return config_set_err(err, errlen, s, path, "expected a list of receiver names "
				      "[ \"ops\", ... ]");
	for (int i = 0; i < config_setting_length(s); i++) {
		const char *v = config_setting_get_string(config_setting_get_elem(s, (unsigned)i));
		const struct receiver_conf *r = v ? config_find_receiver(cfg, v) : NULL;
		char what[200];
		size_t idx;
		bool dup = false;

		if (!r) {
			char shown[80];

			printable_copy(shown, sizeof(shown), v ? v : "", v ? strlen(v) : 0);
			bsnprintf(what, sizeof(what), "\"%s\" is not a receiver (define it in "
				  "receivers = ( ... ) first)", shown);
			return config_set_err(err, errlen, s, path, what);
		}
		idx = (size_t)(r - cfg->receivers);
		for (size_t k = 0; k < out->n; k++)
			dup |= out->idx[k] == idx;
		if (dup)
			continue;
		out->idx = xrealloc(out->idx, (out->n + 1) * sizeof(*out->idx));
		out->idx[out->n++] = idx;
	}
	return 0;
}

static int alerts_setting(struct config *cfg, const config_setting_t *s, const char *path,
			  char **operator_name, char *err, size_t errlen)
{
	struct alerts_conf *a = &cfg->alerts;
	const char *key = config_setting_name(s);
	uint64_t ms;
	double v;

	if (strcmp(key, "confirm") == 0) {
		if (config_get_number(s, path, 1, 10, &v, err, errlen) < 0)
			return -1;
		a->confirm = (unsigned)v;
		return 0;
	}
	if (strcmp(key, "remind") == 0) {
		if (!config_setting_is_array(s) || config_setting_length(s) > 8)
			return config_set_err(err, errlen, s, path, "expected up to 8 numbers of days "
					      "[ 14, 7, 3, 1, 0 ]");
		a->n_remind = 0;
		for (int i = 0; i < config_setting_length(s); i++) {
			const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

			if (config_get_number(e, path, 0, 365, &v, err, errlen) < 0)
				return -1;
			a->remind_days[a->n_remind++] = (int)v;
		}
		return 0;
	}
	if (strcmp(key, "repeat_interval") == 0 || strcmp(key, "unknown_after") == 0 ||
	    strcmp(key, "max_pending") == 0 || strcmp(key, "email_batch") == 0 ||
	    strcmp(key, "alertmanager_resend") == 0 || strcmp(key, "timeout") == 0) {
		bool zero_ok = strcmp(key, "repeat_interval") == 0 || strcmp(key, "email_batch") == 0 ||
			       strcmp(key, "unknown_after") == 0;
		uint64_t lo = zero_ok ? 0 : strcmp(key, "timeout") == 0 ? 1000 : 60000;
		uint64_t hi = strcmp(key, "timeout") == 0 ? 300000 : strcmp(key, "email_batch") == 0 ?
			      3600000 : 90ull * 86400000;

		if (config_get_duration_ms(s, path, lo, hi, &ms, err, errlen) < 0)
			return -1;
		if (strcmp(key, "repeat_interval") == 0)
			a->repeat_interval = (unsigned)(ms / 1000);
		else if (strcmp(key, "unknown_after") == 0)
			a->unknown_after = (unsigned)(ms / 1000);
		else if (strcmp(key, "max_pending") == 0)
			a->max_pending = (unsigned)(ms / 1000);
		else if (strcmp(key, "email_batch") == 0)
			a->email_batch = (unsigned)(ms / 1000);
		else if (strcmp(key, "alertmanager_resend") == 0)
			a->alertmanager_resend = (unsigned)(ms / 1000);
		else
			a->timeout_ms = (unsigned)ms;
		return 0;
	}
	if (strcmp(key, "timezone") == 0) {
		if (config_get_string(s, path, &a->timezone, err, errlen) < 0)
			return -1;
		return timezone_ok(a->timezone) ? 0 : config_set_err(err, errlen, s, path,
			"not a time zone of /usr/share/zoneinfo (for example \"Europe/Berlin\")");
	}
	if (strcmp(key, "operator") == 0)
		return config_get_string(s, path, operator_name, err, errlen);
	return config_set_err(err, errlen, s, path, "unknown alerts setting (known: confirm, "
			      "remind, repeat_interval, unknown_after, max_pending, timeout, "
			      "email_batch, alertmanager_resend, timezone, operator)");
}

int config_load_alerts(struct config *cfg, const config_setting_t *g, const char *path,
		       char *err, size_t errlen)
{
	char *op = NULL;
	int rc = -1;

	if (!config_setting_is_group(g))
		return config_set_err(err, errlen, g, path, "expected a group { ... }");
	for (int i = 0; i < config_setting_length(g); i++)
		if (alerts_setting(cfg, config_setting_get_elem(g, (unsigned)i), path, &op, err,
				   errlen) < 0)
			goto out;
	if (op) {
		const struct receiver_conf *r = config_find_receiver(cfg, op);

		if (!r) {
			config_set_err(err, errlen, config_setting_get_member(g, "operator"), path,
				       "not a receiver (define it in receivers = ( ... ))");
			goto out;
		}
		cfg->alerts.operator_receiver = (int)(r - cfg->receivers);
	}
	rc = 0;
out:
	free(op);
	return rc;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void config_free_alerts(struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_receivers; i++) {
		struct receiver_conf *r = &cfg->receivers[i];

		free(r->name);
		free(r->type);
		free(r->url);
		if (r->secret)
			memset(r->secret, 0, strlen(r->secret));
		free(r->secret);
		free(r->secret_source);
		free(r->username);
		if (r->password)
			memset(r->password, 0, strlen(r->password));
		free(r->password);
		free(r->from);
		free_list(r->to, r->n_to);
		free_list(r->headers, r->n_headers);
		free(r->ca_file);
		free(r->proxy);
		free(r->priority);
		free_list(r->tags, r->n_tags);
		free(r->timezone);
	}
	free(cfg->receivers);
	cfg->receivers = NULL;
	cfg->n_receivers = 0;
	free(cfg->route.idx);
	cfg->route.idx = NULL;
	cfg->route.n = 0;
	for (size_t i = 0; i < cfg->n_groups; i++) {
		free(cfg->groups[i].name);
		free(cfg->groups[i].route.idx);
	}
	free(cfg->groups);
	cfg->groups = NULL;
	cfg->n_groups = 0;
	free(cfg->alerts.timezone);
	cfg->alerts.timezone = NULL;
}

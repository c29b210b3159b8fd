/* clients: the CA store and the DNS, HTTPS and SMTP clients a sweep probes with, built once. */
#include "clients.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks/dnsname.h"
#include "lib/str.h"

static void *real_txt(struct clients *c, const char *name, dns_txt_fn fn, void *arg)
{
	return dns_query_txt(c->dns, name, fn, arg);
}

static void *real_mx(struct clients *c, const char *name, dns_mx_fn fn, void *arg)
{
	return dns_query_mx(c->dns, name, fn, arg);
}

static void *real_addrs(struct clients *c, const char *name, bool ipv6, dns_addr_fn fn,
			void *arg)
{
	return dns_query_addrs(c->dns, name, ipv6, fn, arg);
}

static void real_dns_cancel(struct clients *c, void *q)
{
	dns_cancel(c->dns, q);
}

static void *real_fetch(struct clients *c, const char *domain, const struct addr_answer *addrs,
			unsigned timeout_ms, time_t now, https_done_fn fn, void *arg)
{
	return https_fetch_policy(c->https, domain, addrs, timeout_ms, now, fn, arg);
}

static void real_fetch_cancel(struct clients *c, void *req)
{
	https_cancel(c->https, req);
}

static void *real_smtp(struct clients *c, const char *host, int family, const char *ip,
		       time_t now, smtp_done_fn fn, void *arg)
{
	return smtp_probe_start(c->smtp, host, family, ip, now, fn, arg);
}

static void real_smtp_cancel(struct clients *c, void *p)
{
	(void)c;
	smtp_probe_cancel(p);
}

const struct probe_ops clients_real_ops = {
	.txt = real_txt,
	.mx = real_mx,
	.addrs = real_addrs,
	.dns_cancel = real_dns_cancel,
	.fetch = real_fetch,
	.fetch_cancel = real_fetch_cancel,
	.smtp = real_smtp,
	.smtp_cancel = real_smtp_cancel,
};

void clients_opts_from_config(struct clients_opts *o, const struct config *cfg)
{
	memset(o, 0, sizeof(*o));
	o->resolver = cfg->resolver;
	o->ca_file = cfg->ca_file;
	o->ehlo_name = cfg->ehlo_name;
	o->to = cfg->to;
	o->https_port = 443;
	o->smtp_port = 25;
}

static void default_ehlo(char *buf, size_t len)
{
	if (gethostname(buf, len) < 0 || !strchr(buf, '.') || !dns_name_valid(buf))
		bsnprintf(buf, len, "stswatch.invalid");	/* RFC 2606: never a real host */
}

int clients_open(struct clients *c, struct loop *lp, const struct clients_opts *o, char *err,
		 size_t errlen)
{
	struct https_client_opts ho;
	struct smtp_client_opts so;
	char ehlo[HOST_LEN];
	int rc = -1;

	memset(c, 0, sizeof(*c));
	c->ops = &clients_real_ops;
	c->store = tlscert_store_new(o->ca_file, err, errlen);
	if (!c->store)
		goto out;
	c->dns = dns_client_new(lp, o->resolver, o->to.dns_ms, o->to.dns_tries, err, errlen);
	if (!c->dns)
		goto out;
	memset(&ho, 0, sizeof(ho));
	ho.port = o->https_port;
	c->https = https_client_new(lp, c->store, &ho, err, errlen);
	if (!c->https)
		goto out;
	if (o->ehlo_name)
		strlcpy_s(ehlo, o->ehlo_name, sizeof(ehlo));
	else
		default_ehlo(ehlo, sizeof(ehlo));
	memset(&so, 0, sizeof(so));
	so.ehlo_name = ehlo;
	so.connect_ms = o->to.smtp_connect_ms;
	so.step_ms = o->to.smtp_step_ms;
	/* set only by --tls-keylog: main unsets an SSLKEYLOGFILE of the environment */
	so.keylog_file = getenv("SSLKEYLOGFILE");
	so.port = o->smtp_port;
	c->smtp = smtp_client_new(lp, c->store, &so, err, errlen);
	if (!c->smtp)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		clients_close(c);
	return rc;
}

void clients_close(struct clients *c)
{
	smtp_client_free(c->smtp);
	https_client_free(c->https);
	dns_client_free(c->dns);
	tlscert_store_free(c->store);
	memset(c, 0, sizeof(*c));
}

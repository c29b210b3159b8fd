/*
 * Unit tests of the channels (alerts/channel.h) and the shared message text
 * (alerts/message.h): each channel built from fixture data, its output parsed (JSON with
 * jansson, the email's headers and quoted-printable body by hand) and checked against what
 * the receiving service documents: the required fields and the size limits. Slack and
 * Teams are checked against their documented shapes only, because no real Slack or Teams
 * service can run here; the webhook, Alertmanager and email channels also meet real
 * servers in the lab. Signatures are checked against vectors computed independently
 * (python3's hmac, shown next to each). now is a parameter everywhere.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alerts/channel.h"
#include "alerts/message.h"
#include "lib/defs.h"

#define T_NOW ((time_t)1796724000)	/* 2026-12-08T10:00:00Z */
#define T_FAILS ((time_t)1797217024)	/* 2026-12-14T02:57:04Z */
#define ID "0123456789abcdef"
#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"	/* 24 bytes */

/* ---- fixtures: notification data as docs/ALERT-DATA.md describes it ----------------- */

static const char PROBLEM[] =
	"{\"domain\":\"example.org\",\"kind\":\"problem\",\"status\":\"CRITICAL\","
	"\"previous_status\":\"OK\",\"fails_at\":\"2026-12-14T02:57:04Z\","
	"\"fails_reason\":\"the last valid MX certificate expires\","
	"\"checked_at\":\"2026-12-08T10:00:00Z\",\"mode\":\"enforce\","
	"\"incident\":\"9f2c41d07a6b8e13\",\"blind\":false,"
	"\"incidents\":[{\"id\":\"9f2c41d07a6b8e13\",\"cause\":\"mx:mx1.example.org\","
	"\"event\":\"problem\",\"severity\":\"CRITICAL\",\"opened_at\":\"2026-12-08T09:00:00Z\","
	"\"findings\":[\"mx.cert.expired mx1.example.org[192.0.2.1]\"]}],"
	"\"findings\":["
	"{\"code\":\"tlsrpt.missing\",\"severity\":\"WARNING\",\"subject\":\"_smtp._tls.example.org\","
	"\"message\":\"no TLS-RPT record; senders cannot report; publish one\","
	"\"what\":\"no TLS-RPT record\",\"evidence\":\"TXT _smtp._tls.example.org: NXDOMAIN\","
	"\"consequence\":\"senders cannot report TLS failures to you\","
	"\"fix\":\"publish v=TLSRPTv1 with a rua\"},"
	"{\"code\":\"mx.cert.expired\",\"severity\":\"CRITICAL\","
	"\"subject\":\"mx1.example.org[192.0.2.1]\","
	"\"message\":\"certificate expired 2 days ago; senders refuse; renew it\","
	"\"what\":\"certificate expired 2 days ago\","
	"\"evidence\":\"notAfter 2026-12-06T00:00:00Z, issuer R3\","
	"\"consequence\":\"compliant senders refuse to deliver to mx1.example.org\","
	"\"fix\":\"renew the certificate and check the renewal job\"}],"
	"\"resolved\":[]}";

static const char RESOLVED[] =
	"{\"domain\":\"example.org\",\"kind\":\"resolved\",\"status\":\"OK\","
	"\"previous_status\":\"CRITICAL\",\"fails_at\":null,\"fails_reason\":null,"
	"\"checked_at\":\"2026-12-09T10:00:00Z\",\"mode\":\"enforce\","
	"\"incident\":\"9f2c41d07a6b8e13\",\"blind\":false,"
	"\"incidents\":[{\"id\":\"9f2c41d07a6b8e13\",\"cause\":\"mx:mx1.example.org\","
	"\"event\":\"resolved\",\"severity\":\"CRITICAL\",\"opened_at\":\"2026-12-08T09:00:00Z\","
	"\"findings\":[\"mx.cert.expired mx1.example.org[192.0.2.1]\"]}],"
	"\"findings\":[],"
	"\"resolved\":[{\"code\":\"mx.cert.expired\",\"subject\":\"mx1.example.org[192.0.2.1]\"}]}";

static const char ESCALATED[] =
	"{\"domain\":\"example.org\",\"kind\":\"escalated\",\"status\":\"CRITICAL\","
	"\"previous_status\":\"WARNING\",\"fails_at\":\"2026-12-08T14:30:00Z\","
	"\"fails_reason\":\"the last valid MX certificate expires\","
	"\"checked_at\":\"2026-12-08T10:00:00Z\",\"mode\":\"enforce\","
	"\"incident\":\"77aa41d07a6b8e13\",\"blind\":false,"
	"\"incidents\":[{\"id\":\"77aa41d07a6b8e13\",\"cause\":\"mx:mx2.example.org\","
	"\"event\":\"escalated\",\"severity\":\"CRITICAL\",\"opened_at\":\"2026-12-01T10:00:00Z\","
	"\"findings\":[\"mx.cert.expiring mx2.example.org[192.0.2.2]\"]}],"
	"\"findings\":[{\"code\":\"mx.cert.expiring\",\"severity\":\"CRITICAL\","
	"\"subject\":\"mx2.example.org[192.0.2.2]\",\"message\":\"certificate expires in 4 hours\"}],"
	"\"resolved\":[]}";

static const char BLIND[] =
	"{\"domain\":\"example.org\",\"kind\":\"problem\",\"status\":\"UNKNOWN\","
	"\"previous_status\":\"OK\",\"fails_at\":null,\"fails_reason\":null,"
	"\"checked_at\":\"2026-12-08T10:00:00Z\",\"mode\":null,\"incident\":\"\",\"blind\":true,"
	"\"incidents\":[],\"findings\":[{\"code\":\"dns.error\",\"severity\":\"UNKNOWN\","
	"\"subject\":\"example.org\",\"what\":\"the resolver timed out for MX example.org\","
	"\"evidence\":\"3 tries of 5 s each\"}],\"resolved\":[]}";

static const char FLAPPING[] =
	"{\"domain\":\"example.org\",\"kind\":\"flapping\",\"status\":\"WARNING\","
	"\"previous_status\":\"OK\",\"fails_at\":null,\"checked_at\":\"2026-12-08T10:00:00Z\","
	"\"incident\":\"\",\"blind\":false,\"incidents\":[],"
	"\"findings\":[{\"code\":\"mx.connect\",\"severity\":\"WARNING\","
	"\"subject\":\"mx2.example.org[192.0.2.2]\",\"what\":\"connection refused\"}],"
	"\"resolved\":[]}";

static const char INCONCLUSIVE[] =
	"{\"reason\":\"outbound port 25 appears blocked from this host: 18 of 20 MX hosts refused\","
	"\"domains\":1234,\"since\":\"2026-12-08T09:00:00Z\",\"host\":\"monitor1\"}";

static const char DIGEST[] =
	"{\"receiver\":\"ops\",\"period_start\":\"2026-12-07T10:00:00Z\","
	"\"period_end\":\"2026-12-08T10:00:00Z\",\"open\":["
	"{\"domain\":\"late.example\",\"status\":\"WARNING\",\"fails_at\":\"2027-01-20T00:00:00Z\","
	"\"fails_reason\":\"the policy host's certificate expires\",\"incident\":\"aaaa\","
	"\"findings\":[\"policy.cert.expiring mta-sts.late.example\"]},"
	"{\"domain\":\"nodate.example\",\"status\":\"WARNING\",\"fails_at\":null,"
	"\"findings\":[\"tlsrpt.missing _smtp._tls.nodate.example\"]},"
	"{\"domain\":\"soon.example\",\"status\":\"CRITICAL\",\"fails_at\":\"2026-12-10T00:00:00Z\","
	"\"fails_reason\":\"the last valid MX certificate expires\",\"incident\":\"bbbb\","
	"\"findings\":[\"mx.cert.expiring mx.soon.example[192.0.2.9]\"]}],"
	"\"changed\":[{\"domain\":\"soon.example\",\"kind\":\"problem\","
	"\"at\":\"2026-12-07T12:00:00Z\",\"status\":\"CRITICAL\"},"
	"{\"domain\":\"fixed.example\",\"kind\":\"resolved\",\"at\":\"2026-12-07T13:00:00Z\","
	"\"status\":\"OK\"}]}";

static const char TEST_DATA[] =
	"{\"receiver\":\"ops\",\"message\":\"test notification from stswatch on monitor1\"}";

/* Non-ASCII text (UTF-8): an em dash, umlauts, a CJK word. */
static const char NONASCII[] =
	"{\"domain\":\"example.org\",\"status\":\"WARNING\",\"previous_status\":\"OK\","
	"\"incident\":\"1111222233334444\",\"incidents\":[{\"id\":\"1111222233334444\","
	"\"findings\":[\"mx.cert.expiring mx1.example.org[192.0.2.1]\"]}],"
	"\"findings\":[{\"code\":\"mx.cert.expiring\",\"severity\":\"WARNING\","
	"\"subject\":\"mx1.example.org[192.0.2.1]\","
	"\"what\":\"Zertifikat l\xc3\xa4uft ab \xe2\x80\x94 in 9 Tagen, \xe8\xad\xa6\xe5\x91\x8a "
	"\xc3\xa4\xc3\xb6\xc3\xbc \xc3\xa4\xc3\xb6\xc3\xbc \xc3\xa4\xc3\xb6\xc3\xbc\"}]}";

/* Text from the network that tries to end a header and start another. */
static const char INJECT[] =
	"{\"domain\":\"example.org\\r\\nBcc: victim@evil.example\",\"status\":\"CRITICAL\","
	"\"incident\":\"5555666677778888\",\"incidents\":[{\"id\":\"5555666677778888\"}],"
	"\"findings\":[{\"code\":\"mx.cert.name\",\"severity\":\"CRITICAL\","
	"\"subject\":\"mx1.example.org\\nX-Injected: yes\","
	"\"what\":\"name mismatch\\r\\n\\r\\nForged body\"}]}";

/* Findings whose text starts a line with "." or "From ". */
static const char DOTS[] =
	"{\"domain\":\"example.org\",\"status\":\"WARNING\",\"findings\":["
	"{\"code\":\"x\",\"severity\":\".\",\"subject\":\"s\"},"
	"{\"code\":\"y\",\"severity\":\"From\"}]}";

/* Many long findings, with Slack's control characters in them. */
static char *huge_data_with(char fill)
{
	json_t *d = json_pack("{s:s, s:s, s:s, s:s}", "domain", "example.org", "status", "CRITICAL",
			      "fails_at", "2026-12-14T02:57:04Z", "incident", "9f2c41d07a6b8e13");
	json_t *fs = json_array();
	char *what = malloc(951), *s;

	memset(what, fill, 950);
	what[950] = '\0';
	memcpy(what + 10, "&<b>", 4);
	for (int i = 0; i < 60; i++) {
		char subject[64];

		snprintf(subject, sizeof(subject), "mx%d.example.org[192.0.2.%d]", i, i);
		json_array_append_new(fs, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "code",
						    "mx.cert.expired", "severity", "CRITICAL",
						    "subject", subject, "what", what, "evidence",
						    what, "consequence", what, "fix", what));
	}
	json_object_set_new(d, "findings", fs);
	s = json_dumps(d, JSON_COMPACT);
	json_decref(d);
	free(what);
	return s;
}

static char *huge_data(void)
{
	return huge_data_with('a');
}

/* ---- receivers ---------------------------------------------------------------------- */

static char *slack_headers[] = { "X-Team: mail" };
static char *to_one[] = { "postmaster@example.org" };
static char *to_three[] = { "postmaster@example.org", "hostmaster@example.org",
			    "a.very.long.recipient.name.for.folding@subdomain.example.org" };

static struct receiver rcv(enum channel_kind kind)
{
	struct receiver r;

	memset(&r, 0, sizeof(r));
	r.name = "ops";
	r.kind = kind;
	switch (kind) {
	case CHANNEL_WEBHOOK:
		r.url = "https://hooks.example.net/stswatch";
		break;
	case CHANNEL_SLACK:
		r.url = "https://hooks.slack.com/services/T000/B000/XXXXSLACKSECRET";
		r.headers = slack_headers;
		r.n_headers = 1;
		break;
	case CHANNEL_TEAMS:
		r.url = "https://prod.example.net/workflows/abc/triggers/manual?sig=TEAMSSECRET";
		break;
	case CHANNEL_NTFY:
		r.url = "https://ntfy.example.net/stswatch-ops-TOPICSECRET";
		break;
	case CHANNEL_ALERTMANAGER:
		r.url = "http://alertmanager.example.net:9093/";
		break;
	case CHANNEL_EMAIL:
		r.url = "smtp://smtp.example.net:587";
		r.from = "stswatch@example.net";
		r.to = to_one;
		r.n_to = 1;
		r.username = "stswatch";
		r.password = "SMTPPASSWORD";
		break;
	}
	return r;
}

static int build(const struct receiver *r, enum alert_kind kind, const char *data, time_t now,
		 struct channel_request *out, char *err, size_t errlen)
{
	struct channel_item it = { ID, kind, data };
	struct channel_msg m = { ID, kind, T_NOW, 1, &it };

	return channel_build(r, &m, now, out, err, errlen);
}

/* Build or fail the test, showing the reason. */
static void build_ok(const struct receiver *r, enum alert_kind kind, const char *data,
		     time_t now, struct channel_request *out)
{
	char err[512] = "";
	int rc = build(r, kind, data, now, out, err, sizeof(err));

	if (rc != 0)
		fail_msg("channel_build: %d: %s", rc, err);
}

static const char *header(const struct channel_request *req, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < req->n_headers; i++)
		if (strncasecmp(req->headers[i], name, n) == 0 && req->headers[i][n] == ':')
			return req->headers[i] + n + 2;
	return NULL;
}

static json_t *parse(const char *body)
{
	json_error_t je;
	json_t *j = json_loads(body, 0, &je);

	if (!j)
		fail_msg("not JSON: %s: %s", je.text, body);
	return j;
}

static size_t chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static void render(enum alert_kind kind, const char *data, time_t now, struct message *m,
		   char **body)
{
	json_t *d = parse(data);
	char err[256];

	assert_int_equal(message_render(kind, d, now, m, err, sizeof(err)), 0);
	*body = message_body(m);
	json_decref(d);
}

/* ---- kinds and the receiver check --------------------------------------------------- */

static void test_kind_names(void **state)
{
	(void)state;
	for (int k = CHANNEL_WEBHOOK; k <= CHANNEL_EMAIL; k++)
		assert_int_equal(channel_kind_parse(channel_kind_str((enum channel_kind)k)), k);
	assert_string_equal(channel_kind_str(CHANNEL_ALERTMANAGER), "alertmanager");
	assert_int_equal(channel_kind_parse("pagerduty"), -1);
	assert_int_equal(channel_kind_parse(NULL), -1);
}

static void test_receiver_check(void **state)
{
	static char *bad_hdr[] = { "X-Evil: a\r\nInjected: b" };
	static char *reserved[] = { "webhook-signature: v1,forged" };
	static char *bad_to[] = { "not an address" };
	struct receiver r;
	char err[256];

	(void)state;
	for (int k = CHANNEL_WEBHOOK; k <= CHANNEL_EMAIL; k++) {
		r = rcv((enum channel_kind)k);
		assert_int_equal(channel_receiver_check(&r, err, sizeof(err)), 0);
	}
	r = rcv(CHANNEL_WEBHOOK);
	r.secret = SECRET;
	assert_int_equal(channel_receiver_check(&r, err, sizeof(err)), 0);

	/* a malformed secret is refused and never echoed */
	r.secret = "whsec_SECRETVALUE!!notbase64=====";
	assert_int_equal(channel_receiver_check(&r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "whsec_"));
	assert_null(strstr(err, "SECRETVALUE"));
	r.secret = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";	/* no prefix */
	assert_int_equal(channel_receiver_check(&r, err, sizeof(err)), -1);
	assert_null(strstr(err, "MfKQ9r8"));
	r.secret = "whsec_AAAAAAAAAAAAAAAAAAAAAA==";	/* 16 bytes: under the spec's 24 */
	assert_int_equal(channel_receiver_check(&r, err, sizeof(err)), -1);
	r.secret = NULL;

	r.url = "ftp://hooks.example.net/";
	assert_int_equal(channel_receiver_check(&r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "https://"));
	r.url = "https:///path";
	assert_int_equal(channel_receiver_check(&r, err, sizeof(err)), -1);
	r = rcv(CHANNEL_WEBHOOK);
	r.headers = bad_hdr;
	r.n_headers = 1;
	assert_int_equal(channel_receiver_check(&r, err, sizeof(err)), -1);
	r.headers = reserved;
	assert_int_equal(channel_receiver_check(&r, err, sizeof(err)), -1);
	assert_null(strstr(err, "forged"));

	r = rcv(CHANNEL_EMAIL);
	r.url = "https://smtp.example.net";
	assert_int_equal(channel_receiver_check(&r, err, sizeof(err)), -1);
	r = rcv(CHANNEL_EMAIL);
	r.to = bad_to;
	assert_int_equal(channel_receiver_check(&r, err, sizeof(err)), -1);
	r = rcv(CHANNEL_EMAIL);
	r.from = "stswatch@example.net\r\nBcc: x@y";
	assert_int_equal(channel_receiver_check(&r, err, sizeof(err)), -1);
	r.from = "\"stswatch monitor\" <stswatch@example.net>";
	assert_int_equal(channel_receiver_check(&r, err, sizeof(err)), 0);
	r.n_to = 0;
	assert_int_equal(channel_receiver_check(&r, err, sizeof(err)), -1);
	assert_null(strstr(err, "SMTPPASSWORD"));

	r = rcv(CHANNEL_NTFY);
	r.ntfy_priority = 7;
	assert_int_equal(channel_receiver_check(&r, err, sizeof(err)), -1);
	r.ntfy_priority = 0;
	r.secret = "tk_with space";
	assert_int_equal(channel_receiver_check(&r, err, sizeof(err)), -1);
	assert_null(strstr(err, "with space"));
}

static void test_bad_messages(void **state)
{
	struct receiver r = rcv(CHANNEL_WEBHOOK);
	struct channel_request req;
	struct channel_item items[2] = { { ID, ALERT_PROBLEM, PROBLEM },
					 { "fedcba9876543210", ALERT_RESOLVED, RESOLVED } };
	struct channel_msg m = { ID, ALERT_PROBLEM, T_NOW, 2, items };
	char err[256];

	(void)state;
	assert_int_equal(build(&r, ALERT_PROBLEM, "{not json", T_NOW, &req, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a JSON object"));
	assert_null(req.body);
	assert_int_equal(build(&r, ALERT_PROBLEM, "[1,2]", T_NOW, &req, err, sizeof(err)), -1);
	assert_int_equal(channel_build(&r, &m, T_NOW, &req, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "one notification"));
	m.n = 1;
	m.kind = ALERT_NONE;
	assert_int_equal(channel_build(&r, &m, T_NOW, &req, err, sizeof(err)), -1);
	m.kind = ALERT_PROBLEM;
	items[0].id = "has.a.dot";
	m.n = 1;
	assert_int_equal(channel_build(&r, &m, T_NOW, &req, err, sizeof(err)), -1);
	r = rcv(CHANNEL_SLACK);
	assert_int_equal(build(&r, ALERT_PROBLEM, "{\"status\":\"OK\"}", T_NOW, &req, err,
			       sizeof(err)), -1);
	assert_non_null(strstr(err, "without a domain"));
}

/* ---- the message text --------------------------------------------------------------- */

static void test_message_problem(void **state)
{
	struct message m;
	char *body;

	(void)state;
	render(ALERT_PROBLEM, PROBLEM, T_NOW, &m, &body);
	/* the main incident's worst finding, its what, and how many more */
	assert_string_equal(m.summary, "CRITICAL example.org: mx.cert.expired "
			    "mx1.example.org[192.0.2.1]: certificate expired 2 days ago (+1 more)");
	assert_null(strchr(m.summary, '\n'));
	assert_int_equal(m.status, ALERT_CRITICAL);
	assert_non_null(strstr(body, "New problem: example.org is CRITICAL (it was OK). "
			       "MTA-STS mode: enforce. Checked at 2026-12-08T10:00:00Z."));
	/* the countdown: calendar days in UTC, the date, the cause */
	assert_non_null(strstr(body, "Delivery from compliant senders fails in 6 days, on "
			       "2026-12-14, when the last valid MX certificate expires."));
	assert_non_null(strstr(body, "CRITICAL mx.cert.expired mx1.example.org[192.0.2.1]\n"
			       "What is wrong: certificate expired 2 days ago\n"
			       "Evidence: notAfter 2026-12-06T00:00:00Z, issuer R3\n"
			       "Consequence for senders: compliant senders refuse to deliver to "
			       "mx1.example.org\n"
			       "Fix: renew the certificate and check the renewal job"));
	assert_non_null(strstr(body, "WARNING tlsrpt.missing _smtp._tls.example.org\n"
			       "What is wrong: no TLS-RPT record"));
	assert_non_null(strstr(body, "Incident 9f2c41d07a6b8e13 (mx:mx1.example.org): CRITICAL"));
	assert_string_equal(m.facts[0].name, "Domain");
	assert_string_equal(m.facts[0].value, "example.org");
	assert_string_equal(m.facts[2].name, "Fails");
	assert_string_equal(m.facts[2].value, "in 6 days, on 2026-12-14");
	free(body);
	message_free(&m);

	/* after fails_at: "fails now" */
	render(ALERT_REMINDER, PROBLEM, T_FAILS + 3600, &m, &body);
	assert_non_null(strstr(body, "Delivery from compliant senders fails now (since "
			       "2026-12-14 02:57 UTC, when the last valid MX certificate expires)."));
	assert_non_null(strstr(m.summary, "(reminder: fails now)"));
	assert_non_null(strstr(body, "Reminder: example.org is still CRITICAL"));
	free(body);
	message_free(&m);
}

static void test_message_countdown(void **state)
{
	char buf[256];

	(void)state;
	message_countdown(T_NOW + 4 * 3600 + 1800, NULL, T_NOW, buf, sizeof(buf));
	assert_string_equal(buf, "Delivery from compliant senders fails in 4 hours, at "
			    "2026-12-08 14:30 UTC.");
	message_countdown(T_NOW + 600, "x", T_NOW, buf, sizeof(buf));
	assert_string_equal(buf, "Delivery from compliant senders fails within the hour, at "
			    "2026-12-08 10:10 UTC, when x.");
	/* 23:00 to 01:00 next day is 2 hours, not "1 day" */
	message_countdown(T_NOW + 86400 + 3600, NULL, T_NOW, buf, sizeof(buf));
	assert_string_equal(buf, "Delivery from compliant senders fails in 1 day, on 2026-12-09.");
	message_countdown(T_NOW, NULL, T_NOW, buf, sizeof(buf));
	assert_string_equal(buf, "Delivery from compliant senders fails now (since "
			    "2026-12-08 10:00 UTC).");
}

static void test_message_kinds(void **state)
{
	struct message m;
	char *body;

	(void)state;
	render(ALERT_RESOLVED, RESOLVED, T_NOW, &m, &body);
	assert_string_equal(m.summary, "RESOLVED example.org: mx.cert.expired "
			    "mx1.example.org[192.0.2.1] fixed");
	assert_non_null(strstr(body, "Resolved: example.org is OK again (it was CRITICAL)."));
	assert_non_null(strstr(body, "Fixed:\n- mx.cert.expired mx1.example.org[192.0.2.1]"));
	assert_non_null(strstr(body, "Incident 9f2c41d07a6b8e13 (mx:mx1.example.org) is closed"));
	assert_null(strstr(body, "fails in"));
	free(body);
	message_free(&m);

	render(ALERT_ESCALATED, ESCALATED, T_NOW, &m, &body);
	assert_string_equal(m.summary, "CRITICAL example.org (was WARNING): mx.cert.expiring "
			    "mx2.example.org[192.0.2.2]: certificate expires in 4 hours");
	assert_non_null(strstr(body, "The problem got worse: example.org is now CRITICAL (it "
			       "was WARNING)."));
	assert_non_null(strstr(body, "fails in 4 hours, at 2026-12-08 14:30 UTC"));
	assert_non_null(strstr(body, "Details: certificate expires in 4 hours"));
	free(body);
	message_free(&m);

	/* blind: the monitor could not tell; not "the domain is broken" */
	render(ALERT_PROBLEM, BLIND, T_NOW, &m, &body);
	assert_string_equal(m.summary, "UNKNOWN example.org: the monitor could not tell; "
			    "dns.error example.org: the resolver timed out for MX example.org");
	assert_non_null(strstr(body, "The monitor could not tell the state of example.org"));
	assert_non_null(strstr(body, "This does not mean the domain is broken"));
	assert_non_null(strstr(body, "Evidence: 3 tries of 5 s each"));
	free(body);
	message_free(&m);

	render(ALERT_FLAPPING, FLAPPING, T_NOW, &m, &body);
	assert_string_equal(m.summary, "FLAPPING example.org: status changes too often; "
			    "notifications held until it settles");
	assert_non_null(strstr(body, "holds the notifications about it until it settles"));
	free(body);
	message_free(&m);

	render(ALERT_INCONCLUSIVE, INCONCLUSIVE, T_NOW, &m, &body);
	assert_non_null(strstr(m.summary, "INCONCLUSIVE run on monitor1: outbound port 25"));
	assert_non_null(strstr(body, "the monitor's own vantage point failed"));
	assert_non_null(strstr(body, "Domain owners were not notified"));
	assert_non_null(strstr(body, "Domains in the run: 1234."));
	free(body);
	message_free(&m);

	render(ALERT_TEST, TEST_DATA, T_NOW, &m, &body);
	assert_string_equal(m.summary, "TEST ops: test notification from stswatch on monitor1");
	assert_non_null(strstr(body, "nothing is wrong"));
	free(body);
	message_free(&m);
}

static void test_message_digest(void **state)
{
	struct message m;
	char *body, *soon, *late, *nodate;

	(void)state;
	render(ALERT_DIGEST, DIGEST, T_NOW, &m, &body);
	assert_string_equal(m.summary, "DIGEST ops: 3 open problems, 2 changes");
	assert_int_equal(m.status, ALERT_CRITICAL);
	soon = strstr(body, "- CRITICAL soon.example: fails in 2 days, on 2026-12-10, when the "
		      "last valid MX certificate expires; findings: mx.cert.expiring "
		      "mx.soon.example[192.0.2.9]");
	late = strstr(body, "- WARNING late.example: fails in 43 days, on 2027-01-20");
	nodate = strstr(body, "- WARNING nodate.example: no failure date predicted");
	assert_non_null(soon);
	assert_non_null(late);
	assert_non_null(nodate);
	/* by fails_at, the undated last, whatever the order of the data */
	assert_true(soon < late && late < nodate);
	assert_non_null(strstr(body, "What changed (2):\n- 2026-12-07T12:00:00Z soon.example: "
			       "problem, CRITICAL\n- 2026-12-07T13:00:00Z fixed.example: resolved, OK"));
	free(body);
	message_free(&m);
}

/* ---- webhook ------------------------------------------------------------------------ */

static void test_webhook_sign_vector(void **state)
{
	/*
	 * The Standard Webhooks reference vector (libraries/go/webhook_test.go), checked here
	 * with python3:
	 *   k = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	 *   base64.b64encode(hmac.new(k, b'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.'
	 *                                b'{"test": 2432232314}', hashlib.sha256).digest())
	 *   -> g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
	 */
	const char *body = "{\"test\": 2432232314}";
	char sig[128], err[256];

	(void)state;
	assert_int_equal(channel_webhook_sign(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
					      body, strlen(body), sig, sizeof(sig), err,
					      sizeof(err)), 0);
	assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	/* one byte of the body changed: another signature */
	assert_int_equal(channel_webhook_sign(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
					      "{\"test\": 2432232315}", strlen(body), sig,
					      sizeof(sig), err, sizeof(err)), 0);
	assert_string_not_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	assert_int_equal(channel_webhook_sign("whsec_short", "id", 1, body, strlen(body), sig,
					      sizeof(sig), err, sizeof(err)), -1);
	assert_null(strstr(err, "short"));
	assert_int_equal(channel_webhook_sign(SECRET, "a.b", 1, body, strlen(body), sig,
					      sizeof(sig), err, sizeof(err)), -1);
}

/* The body channel_build() writes for TEST_DATA (created_at T_NOW), byte for byte. */
static const char WEBHOOK_BODY[] =
	"{\"type\":\"stswatch.test\",\"timestamp\":\"2026-12-08T10:00:00Z\",\"data\":"
	"{\"receiver\":\"ops\",\"message\":\"test notification from stswatch on monitor1\"}}";

/* python3 (above) and `openssl dgst -sha256 -mac HMAC -macopt hexkey:...` agree on it. */
#define WEBHOOK_SIG "v1,1x0yH7NkxHwncwVvuabBBJEJsVWErDNICWDfogp2y+E="

static void test_webhook(void **state)
{
	struct receiver r = rcv(CHANNEL_WEBHOOK);
	struct channel_request req;
	json_t *body, *data;
	char err[256];

	(void)state;
	r.secret = SECRET;
	/*
	 * An end-to-end vector, computed with python3 over WEBHOOK_BODY:
	 *   base64.b64encode(hmac.new(k, b'0123456789abcdef.1796724100.' + WEBHOOK_BODY,
	 *                             hashlib.sha256).digest())
	 */
	build_ok(&r, ALERT_TEST, TEST_DATA, T_NOW + 100, &req);
	assert_string_equal(req.body, WEBHOOK_BODY);
	assert_int_equal(req.body_len, strlen(WEBHOOK_BODY));
	assert_string_equal(header(&req, "webhook-id"), ID);
	assert_string_equal(header(&req, "webhook-timestamp"), "1796724100");
	assert_string_equal(header(&req, "webhook-signature"), WEBHOOK_SIG);
	assert_string_equal(header(&req, "Content-Type"), "application/json");
	assert_string_equal(req.method, "POST");
	assert_string_equal(req.url, "https://hooks.example.net/stswatch");
	channel_request_free(&req);

	/* the envelope around a problem: the data as given, the event's own time */
	build_ok(&r, ALERT_PROBLEM, PROBLEM, T_NOW + 3600, &req);
	body = parse(req.body);
	assert_string_equal(json_string_value(json_object_get(body, "type")), "stswatch.problem");
	assert_string_equal(json_string_value(json_object_get(body, "timestamp")),
			    "2026-12-08T10:00:00Z");
	data = parse(PROBLEM);
	assert_true(json_equal(json_object_get(body, "data"), data));
	assert_int_equal(json_object_size(body), 3);
	assert_non_null(header(&req, "webhook-signature"));
	json_decref(body);
	json_decref(data);
	channel_request_free(&req);

	/* without a secret: no signature header */
	r.secret = NULL;
	build_ok(&r, ALERT_PROBLEM, PROBLEM, T_NOW, &req);
	assert_null(header(&req, "webhook-signature"));
	channel_request_free(&req);

	r.secret = "whsec_!!!!";
	assert_int_equal(build(&r, ALERT_PROBLEM, PROBLEM, T_NOW, &req, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "Standard Webhooks"));
	assert_null(strstr(err, "!!!!"));
}

/* ---- Slack -------------------------------------------------------------------------- */

/* Check a Slack message against the documented limits; return its block count. */
static size_t slack_check(const char *body)
{
	json_t *root = parse(body), *blocks = json_object_get(root, "blocks"), *b;
	size_t i, n;

	assert_true(json_is_string(json_object_get(root, "text")));
	assert_true(chars(json_string_value(json_object_get(root, "text"))) <= 40000);
	assert_true(json_is_array(blocks));
	n = json_array_size(blocks);
	assert_true(n >= 2 && n <= 50);
	json_array_foreach(blocks, i, b) {
		const char *type = json_string_value(json_object_get(b, "type"));
		json_t *t = json_object_get(b, "text");

		assert_non_null(type);
		if (strcmp(type, "header") == 0) {
			assert_string_equal(json_string_value(json_object_get(t, "type")),
					    "plain_text");
			assert_true(chars(json_string_value(json_object_get(t, "text"))) <= 150);
		} else if (strcmp(type, "section") == 0) {
			const char *s = json_string_value(json_object_get(t, "text"));

			assert_string_equal(json_string_value(json_object_get(t, "type")), "mrkdwn");
			assert_true(chars(s) >= 1 && chars(s) <= 3000);
			assert_null(strchr(s, '<'));
			assert_null(strchr(s, '>'));
			/* every & starts an entity: none was cut in two */
			for (const char *a = strchr(s, '&'); a; a = strchr(a + 1, '&'))
				assert_true(strncmp(a, "&amp;", 5) == 0 || strncmp(a, "&lt;", 4) == 0 ||
					    strncmp(a, "&gt;", 4) == 0);
		} else {
			assert_string_equal(type, "context");
			assert_true(i == n - 1);
			assert_true(json_array_size(json_object_get(b, "elements")) <= 10);
		}
	}
	json_decref(root);
	return n;
}

static void test_slack(void **state)
{
	struct receiver r = rcv(CHANNEL_SLACK);
	struct channel_request req;
	json_t *root, *blocks;
	char *big;

	(void)state;
	build_ok(&r, ALERT_PROBLEM, PROBLEM, T_NOW, &req);
	slack_check(req.body);
	root = parse(req.body);
	assert_string_equal(json_string_value(json_object_get(root, "text")),
			    "CRITICAL example.org: mx.cert.expired mx1.example.org[192.0.2.1]: "
			    "certificate expired 2 days ago (+1 more)");
	blocks = json_object_get(root, "blocks");
	assert_string_equal(json_string_value(json_object_get(json_array_get(blocks, 0), "type")),
			    "header");
	assert_non_null(strstr(req.body, "when the last valid MX certificate expires"));
	assert_non_null(strstr(req.body, "*Domain:* example.org"));
	assert_string_equal(header(&req, "X-Team"), "mail");
	assert_string_equal(header(&req, "Content-Type"), "application/json; charset=utf-8");
	json_decref(root);
	channel_request_free(&req);

	/* oversized: within every limit, the header cut to 150, &<> escaped */
	big = huge_data();
	build_ok(&r, ALERT_PROBLEM, big, T_NOW, &req);
	assert_int_equal(slack_check(req.body), 50);
	assert_non_null(strstr(req.body, "&amp;&lt;b&gt;"));
	assert_non_null(strstr(req.body, "\xe2\x80\xa6"));	/* "…" where it was cut */
	channel_request_free(&req);
	free(big);

	/* lines of "&" grow fivefold when escaped: sections cut within a line, not in an entity */
	big = huge_data_with('&');
	build_ok(&r, ALERT_PROBLEM, big, T_NOW, &req);
	assert_int_equal(slack_check(req.body), 50);
	channel_request_free(&req);
	free(big);
}

/* ---- Teams -------------------------------------------------------------------------- */

static void teams_check(const char *body)
{
	json_t *root = parse(body), *atts, *att, *card, *cbody, *b;
	size_t i;

	assert_true(strlen(body) <= 14000);
	assert_string_equal(json_string_value(json_object_get(root, "type")), "message");
	atts = json_object_get(root, "attachments");
	assert_int_equal(json_array_size(atts), 1);
	att = json_array_get(atts, 0);
	assert_string_equal(json_string_value(json_object_get(att, "contentType")),
			    "application/vnd.microsoft.card.adaptive");
	assert_true(json_is_null(json_object_get(att, "contentUrl")));
	card = json_object_get(att, "content");
	assert_string_equal(json_string_value(json_object_get(card, "type")), "AdaptiveCard");
	assert_true(json_is_string(json_object_get(card, "version")));
	assert_true(json_is_string(json_object_get(card, "fallbackText")));
	cbody = json_object_get(card, "body");
	assert_true(json_array_size(cbody) >= 2);
	json_array_foreach(cbody, i, b) {
		const char *type = json_string_value(json_object_get(b, "type"));

		assert_non_null(type);
		if (strcmp(type, "TextBlock") == 0)
			assert_true(json_is_string(json_object_get(b, "text")));
		else
			assert_string_equal(type, "FactSet");
	}
	json_decref(root);
}

static void test_teams(void **state)
{
	struct receiver r = rcv(CHANNEL_TEAMS);
	struct channel_request req;
	char *big;

	(void)state;
	build_ok(&r, ALERT_PROBLEM, PROBLEM, T_NOW, &req);
	teams_check(req.body);
	assert_non_null(strstr(req.body, "\"color\":\"Attention\""));
	assert_non_null(strstr(req.body, "{\"title\":\"Fails\",\"value\":\"in 6 days, on "
				  "2026-12-14\"}"));
	assert_non_null(strstr(req.body, "Fix: renew the certificate"));
	assert_null(strstr(req.body, "shortened"));
	channel_request_free(&req);

	build_ok(&r, ALERT_RESOLVED, RESOLVED, T_NOW, &req);
	teams_check(req.body);
	assert_non_null(strstr(req.body, "\"color\":\"Good\""));
	channel_request_free(&req);

	big = huge_data();
	build_ok(&r, ALERT_PROBLEM, big, T_NOW, &req);
	teams_check(req.body);
	assert_true(req.body_len > 10000);	/* cut to fit, not to nothing */
	assert_non_null(strstr(req.body, "shortened to fit Teams"));
	channel_request_free(&req);
	free(big);
}

/* ---- ntfy --------------------------------------------------------------------------- */

/* Decode a header value of RFC 2047 "B" words (UTF-8) separated by spaces. */
static char *decode_words(const char *v)
{
	char *out = calloc(1, strlen(v) + 1);
	size_t o = 0;

	while (*v) {
		const char *q, *end;
		unsigned char buf[256];
		int n, pad;

		while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
			v++;
		if (!*v)
			break;
		if (strncmp(v, "=?UTF-8?B?", 10) != 0) {
			free(out);
			return NULL;
		}
		q = v + 10;
		end = strstr(q, "?=");
		assert_non_null(end);
		assert_true(end - q < 300);
		n = EVP_DecodeBlock(buf, (const unsigned char *)q, (int)(end - q));
		assert_true(n >= 0);
		pad = (end - q >= 1 && end[-1] == '=') + (end - q >= 2 && end[-2] == '=');
		memcpy(out + o, buf, (size_t)(n - pad));
		o += (size_t)(n - pad);
		v = end + 2;
	}
	out[o] = '\0';
	return out;
}

static void test_ntfy(void **state)
{
	static char *tags[] = { "mail,ops", "team-a" };
	struct receiver r = rcv(CHANNEL_NTFY);
	struct channel_request req;
	struct message m;
	char *body, *title;
	char *big;

	(void)state;
	r.secret = "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2";
	r.ntfy_tags = tags;
	r.n_ntfy_tags = 2;
	build_ok(&r, ALERT_PROBLEM, PROBLEM, T_NOW, &req);
	assert_string_equal(req.url, r.url);
	assert_string_equal(header(&req, "Title"), "CRITICAL example.org: mx.cert.expired "
			    "mx1.example.org[192.0.2.1]: certificate expired 2 days ago (+1 more)");
	assert_string_equal(header(&req, "Priority"), "5");
	assert_string_equal(header(&req, "Tags"), "rotating_light,example.org,mailops,team-a");
	assert_string_equal(header(&req, "Authorization"),
			    "Bearer tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2");
	assert_string_equal(header(&req, "Content-Type"), "text/plain; charset=utf-8");
	assert_non_null(strstr(req.body, "fails in 6 days, on 2026-12-14"));
	channel_request_free(&req);

	build_ok(&r, ALERT_RESOLVED, RESOLVED, T_NOW, &req);
	assert_string_equal(header(&req, "Priority"), "2");
	assert_true(strncmp(header(&req, "Tags"), "white_check_mark,", 17) == 0);
	channel_request_free(&req);
	build_ok(&r, ALERT_PROBLEM, BLIND, T_NOW, &req);
	assert_string_equal(header(&req, "Priority"), "3");
	channel_request_free(&req);
	r.ntfy_priority = 1;	/* the receiver's own choice wins */
	build_ok(&r, ALERT_PROBLEM, PROBLEM, T_NOW, &req);
	assert_string_equal(header(&req, "Priority"), "1");
	channel_request_free(&req);
	r.ntfy_priority = 0;
	r.secret = NULL;

	/* a non-ASCII title goes as RFC 2047 encoded-words that decode to the summary */
	build_ok(&r, ALERT_PROBLEM, NONASCII, T_NOW, &req);
	render(ALERT_PROBLEM, NONASCII, T_NOW, &m, &body);
	for (const char *p = header(&req, "Title"); *p; p++)
		assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
	title = decode_words(header(&req, "Title"));
	assert_non_null(title);
	assert_string_equal(title, m.summary);
	assert_null(header(&req, "Authorization"));
	free(title);
	free(body);
	message_free(&m);
	channel_request_free(&req);

	/* oversized: cut to ntfy's 4,096 bytes (longer would become an attachment) */
	big = huge_data();
	build_ok(&r, ALERT_PROBLEM, big, T_NOW, &req);
	assert_true(req.body_len <= 4096 && req.body_len > 4000);
	/* the title is cut to 250 bytes (it ends in "…", so it goes encoded) */
	title = decode_words(header(&req, "Title"));
	assert_non_null(title);
	assert_true(strlen(title) <= 250 && strlen(title) > 240);
	free(title);
	channel_request_free(&req);
	free(big);
}

/* ---- Alertmanager ------------------------------------------------------------------- */

static json_t *am_find(json_t *arr, const char *code, const char *sev)
{
	json_t *a;
	size_t i;

	json_array_foreach(arr, i, a) {
		json_t *l = json_object_get(a, "labels");

		if (strcmp(json_string_value(json_object_get(l, "code")), code) == 0 &&
		    strcmp(json_string_value(json_object_get(l, "severity")), sev) == 0)
			return a;
	}
	return NULL;
}

static void test_alertmanager(void **state)
{
	struct receiver r = rcv(CHANNEL_ALERTMANAGER);
	struct channel_request req;
	json_t *arr, *a, *l, *ann;
	char err[256];

	(void)state;
	r.secret = "am-token";
	r.generator_url = "https://status.example.net/stswatch";
	build_ok(&r, ALERT_PROBLEM, PROBLEM, T_NOW, &req);
	assert_string_equal(req.url, "http://alertmanager.example.net:9093/api/v2/alerts");
	assert_string_equal(header(&req, "Content-Type"), "application/json");
	assert_string_equal(header(&req, "Authorization"), "Bearer am-token");
	arr = parse(req.body);
	assert_true(json_is_array(arr));
	assert_int_equal(json_array_size(arr), 2);
	a = am_find(arr, "mx.cert.expired", "critical");
	assert_non_null(a);
	l = json_object_get(a, "labels");
	assert_int_equal(json_object_size(l), 5);
	assert_string_equal(json_string_value(json_object_get(l, "alertname")), "MTASTS");
	assert_string_equal(json_string_value(json_object_get(l, "domain")), "example.org");
	assert_string_equal(json_string_value(json_object_get(l, "subject")),
			    "mx1.example.org[192.0.2.1]");
	ann = json_object_get(a, "annotations");
	assert_string_equal(json_string_value(json_object_get(ann, "fails_at")),
			    "2026-12-14T02:57:04Z");
	assert_string_equal(json_string_value(json_object_get(ann, "incident")),
			    "9f2c41d07a6b8e13");
	assert_non_null(strstr(json_string_value(json_object_get(ann, "summary")),
			       "CRITICAL example.org"));
	assert_non_null(strstr(json_string_value(json_object_get(ann, "description")),
			       "Fix: renew the certificate"));
	/* startsAt: when the incident opened; endsAt: now + the default 4 h validity */
	assert_string_equal(json_string_value(json_object_get(a, "startsAt")),
			    "2026-12-08T09:00:00Z");
	assert_string_equal(json_string_value(json_object_get(a, "endsAt")),
			    "2026-12-08T14:00:00Z");
	assert_string_equal(json_string_value(json_object_get(a, "generatorURL")),
			    r.generator_url);
	a = am_find(arr, "tlsrpt.missing", "warning");
	assert_non_null(a);
	/* not in the main incident: starts at checked_at */
	assert_string_equal(json_string_value(json_object_get(a, "startsAt")),
			    "2026-12-08T10:00:00Z");
	json_decref(arr);
	channel_request_free(&req);

	/* resolved: endsAt now, at every severity the data does not name */
	r.am_validity = 600;
	build_ok(&r, ALERT_RESOLVED, RESOLVED, T_NOW + 86400, &req);
	arr = parse(req.body);
	assert_int_equal(json_array_size(arr), 3);
	a = am_find(arr, "mx.cert.expired", "critical");
	assert_non_null(a);
	assert_string_equal(json_string_value(json_object_get(a, "endsAt")),
			    "2026-12-09T10:00:00Z");
	assert_non_null(am_find(arr, "mx.cert.expired", "warning"));
	json_decref(arr);
	channel_request_free(&req);

	/* escalated: fires at critical and ends the same finding at the other severities */
	build_ok(&r, ALERT_ESCALATED, ESCALATED, T_NOW, &req);
	arr = parse(req.body);
	assert_int_equal(json_array_size(arr), 3);
	a = am_find(arr, "mx.cert.expiring", "critical");
	assert_string_equal(json_string_value(json_object_get(a, "endsAt")),
			    "2026-12-08T10:10:00Z");
	a = am_find(arr, "mx.cert.expiring", "warning");
	assert_string_equal(json_string_value(json_object_get(a, "endsAt")),
			    "2026-12-08T10:00:00Z");
	json_decref(arr);
	channel_request_free(&req);

	/* a digest is no alert; the inconclusive run is the operator's own alert */
	assert_int_equal(build(&r, ALERT_DIGEST, DIGEST, T_NOW, &req, err, sizeof(err)), 1);
	assert_null(req.body);
	build_ok(&r, ALERT_INCONCLUSIVE, INCONCLUSIVE, T_NOW, &req);
	arr = parse(req.body);
	l = json_object_get(json_array_get(arr, 0), "labels");
	assert_string_equal(json_string_value(json_object_get(l, "alertname")),
			    "MTASTSMonitorInconclusive");
	assert_string_equal(json_string_value(json_object_get(l, "subject")), "monitor1");
	assert_null(json_object_get(l, "domain"));
	json_decref(arr);
	channel_request_free(&req);
}

static void test_alertmanager_state(void **state)
{
	struct receiver r = rcv(CHANNEL_ALERTMANAGER);
	struct am_alert v[2] = {
		{ .domain = "example.org", .code = "mx.cert.expiring",
		  .subject = "mx1.example.org[192.0.2.1]", .sev = ALERT_WARNING,
		  .starts_at = T_NOW - 86400, .fails_at = T_FAILS, .summary = "s" },
		{ .domain = "example.org", .code = "mx.connect", .subject = "mx2\nx",
		  .sev = ALERT_WARNING, .resolved = true },
	};
	struct channel_request req;
	json_t *arr, *a;
	char err[256];

	(void)state;
	assert_int_equal(channel_alertmanager_build(&r, v, 2, T_NOW, &req, err, sizeof(err)), 0);
	arr = parse(req.body);
	a = json_array_get(arr, 0);
	assert_string_equal(json_string_value(json_object_get(a, "startsAt")),
			    "2026-12-07T10:00:00Z");
	assert_string_equal(json_string_value(json_object_get(a, "endsAt")),
			    "2026-12-08T14:00:00Z");
	a = json_array_get(arr, 1);
	assert_null(json_object_get(a, "startsAt"));
	assert_string_equal(json_string_value(json_object_get(a, "endsAt")),
			    "2026-12-08T10:00:00Z");
	assert_string_equal(json_string_value(json_object_get(json_object_get(a, "labels"),
								"subject")), "mx2 x");
	json_decref(arr);
	channel_request_free(&req);
	assert_int_equal(channel_alertmanager_build(&r, v, 0, T_NOW, &req, err, sizeof(err)), -1);
	r = rcv(CHANNEL_WEBHOOK);
	assert_int_equal(channel_alertmanager_build(&r, v, 1, T_NOW, &req, err, sizeof(err)), -1);
}

/* The re-send: the same alerts, word for word, as a problem notification of the same data. */
static void test_alertmanager_resend(void **state)
{
	struct receiver r = rcv(CHANNEL_ALERTMANAGER);
	struct channel_request req, first;
	const char *two[] = { PROBLEM, PROBLEM }, *none[] = { "{\"domain\":\"example.org\","
							       "\"findings\":[]}" };
	const char *bad[] = { "{not json" }, *nodomain[] = { "{\"findings\":[]}" };
	json_t *arr, *want, *a, *ann;
	char err[256];

	(void)state;
	build_ok(&r, ALERT_PROBLEM, PROBLEM, T_NOW, &first);
	want = parse(first.body);
	assert_int_equal(channel_alertmanager_resend(&r, two, 1, T_NOW, &req, err, sizeof(err)), 0);
	assert_string_equal(req.url, "http://alertmanager.example.net:9093/api/v2/alerts");
	assert_string_equal(header(&req, "Content-Type"), "application/json");
	arr = parse(req.body);
	assert_true(json_equal(arr, want));
	/* every annotation is there, not only the incident */
	a = am_find(arr, "mx.cert.expired", "critical");
	assert_non_null(a);
	ann = json_object_get(a, "annotations");
	assert_int_equal(json_object_size(ann), 5);
	assert_non_null(strstr(json_string_value(json_object_get(ann, "summary")),
			       "CRITICAL example.org"));
	assert_non_null(strstr(json_string_value(json_object_get(ann, "description")),
			       "Fix: renew the certificate"));
	assert_string_equal(json_string_value(json_object_get(ann, "fails_at")),
			    "2026-12-14T02:57:04Z");
	assert_non_null(json_string_value(json_object_get(ann, "fails_reason")));
	assert_string_equal(json_string_value(json_object_get(ann, "incident")),
			    "9f2c41d07a6b8e13");
	json_decref(arr);
	channel_request_free(&req);
	/* several domains in one POST */
	assert_int_equal(channel_alertmanager_resend(&r, two, 2, T_NOW, &req, err, sizeof(err)), 0);
	arr = parse(req.body);
	assert_int_equal(json_array_size(arr), 2 * json_array_size(want));
	json_decref(arr);
	channel_request_free(&req);
	/* after an escalation: its summary ("was WARNING"), and only the alert it fired, not
	 * the ends it sent at the other severities */
	build_ok(&r, ALERT_ESCALATED, ESCALATED, T_NOW, &req);
	arr = parse(req.body);
	a = json_deep_copy(am_find(arr, "mx.cert.expiring", "critical"));
	json_decref(arr);
	channel_request_free(&req);
	assert_non_null(a);
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(a, "annotations"),
								 "summary")), "(was WARNING)"));
	{
		const char *esc[] = { ESCALATED };

		assert_int_equal(channel_alertmanager_resend(&r, esc, 1, T_NOW, &req, err,
							     sizeof(err)), 0);
	}
	arr = parse(req.body);
	assert_int_equal(json_array_size(arr), 1);
	assert_true(json_equal(json_array_get(arr, 0), a));
	json_decref(arr);
	json_decref(a);
	channel_request_free(&req);
	/* nothing fires: nothing to send; broken data and other receivers are refused */
	assert_int_equal(channel_alertmanager_resend(&r, none, 1, T_NOW, &req, err,
						     sizeof(err)), 1);
	assert_null(req.body);
	assert_int_equal(channel_alertmanager_resend(&r, bad, 1, T_NOW, &req, err,
						     sizeof(err)), -1);
	assert_non_null(strstr(err, "not a JSON object"));
	assert_int_equal(channel_alertmanager_resend(&r, nodomain, 1, T_NOW, &req, err,
						     sizeof(err)), -1);
	r = rcv(CHANNEL_WEBHOOK);
	assert_int_equal(channel_alertmanager_resend(&r, two, 1, T_NOW, &req, err,
						     sizeof(err)), -1);
	assert_null(req.body);
	json_decref(want);
	channel_request_free(&first);
}

/* ---- email -------------------------------------------------------------------------- */

struct mail {
	size_t n;
	char name[32][40];
	char *value[32];	/* unfolded */
	char *body;		/* quoted-printable decoded, LF line ends */
};

static void mail_free(struct mail *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->value[i]);
	free(m->body);
}

static const char *mail_get(const struct mail *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcasecmp(m->name[i], name) == 0)
			return m->value[i];
	return NULL;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/*
 * Parse an RFC 5322 message as a strict receiver would: CRLF only, header lines within 78
 * (76 with encoded-words), continuation lines start with a space; the body quoted-printable
 * with lines within 76, decoded.
 */
static void mail_parse(const char *msg, size_t len, struct mail *m)
{
	const char *p = msg, *end = msg + len, *sep = strstr(msg, "\r\n\r\n");
	size_t o = 0;

	memset(m, 0, sizeof(*m));
	assert_non_null(sep);
	for (size_t i = 0; i < len; i++) {
		if (msg[i] == '\n')
			assert_true(i > 0 && msg[i - 1] == '\r');
		if (msg[i] == '\r')
			assert_true(i + 1 < len && msg[i + 1] == '\n');
		assert_true((unsigned char)msg[i] < 0x80);	/* 7-bit all through */
	}
	while (p < sep + 2) {
		const char *eol = strstr(p, "\r\n");
		size_t ll = (size_t)(eol - p);

		assert_true(ll <= (memmem(p, ll, "=?", 2) ? 76u : 78u));
		if (*p == ' ' || *p == '\t') {
			char *v;

			assert_true(m->n > 0);
			v = m->value[m->n - 1];
			v = realloc(v, strlen(v) + ll + 1);
			strncat(v, p, ll);
			m->value[m->n - 1] = v;
		} else {
			const char *colon = memchr(p, ':', ll);

			assert_non_null(colon);
			assert_true(m->n < 32);
			snprintf(m->name[m->n], sizeof(m->name[0]), "%.*s", (int)(colon - p), p);
			for (const char *c = p; c < colon; c++)
				assert_true(*c > 0x20 && *c < 0x7f);
			m->value[m->n] = strndup(colon + 1 + (colon[1] == ' '),
						 ll - (size_t)(colon - p) - 1 - (colon[1] == ' '));
			m->n++;
		}
		p = eol + 2;
	}
	p = sep + 4;
	m->body = calloc(1, (size_t)(end - p) + 1);
	while (p < end) {
		const char *eol = strstr(p, "\r\n");
		size_t ll;

		assert_non_null(eol);
		ll = (size_t)(eol - p);
		assert_true(ll <= 76);
		for (size_t i = 0; i < ll; i++) {
			if (p[i] != '=') {
				m->body[o++] = p[i];
				continue;
			}
			if (i + 1 == ll)
				break;	/* a soft line break */
			assert_true(i + 2 < ll + 1 && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0);
			m->body[o++] = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
			i += 2;
		}
		if (!(ll && p[ll - 1] == '='))	/* '=' itself is always encoded */
			m->body[o++] = '\n';
		p = eol + 2;
	}
}

static void test_email_problem(void **state)
{
	struct receiver r = rcv(CHANNEL_EMAIL);
	struct channel_request req;
	struct mail mail;

	(void)state;
	build_ok(&r, ALERT_PROBLEM, PROBLEM, T_NOW, &req);
	assert_string_equal(req.mail_from, "stswatch@example.net");
	assert_int_equal(req.n_rcpt, 1);
	assert_string_equal(req.rcpt[0], "postmaster@example.org");
	assert_string_equal(req.url, "smtp://smtp.example.net:587");
	assert_null(req.body);
	mail_parse(req.message, req.message_len, &mail);
	assert_string_equal(mail_get(&mail, "Date"), "Tue, 08 Dec 2026 10:00:00 +0000");
	assert_string_equal(mail_get(&mail, "From"), "stswatch@example.net");
	assert_string_equal(mail_get(&mail, "To"), "postmaster@example.org");
	assert_string_equal(mail_get(&mail, "Subject"),
			    "[stswatch] CRITICAL example.org: mx.cert.expired "
			    "mx1.example.org[192.0.2.1]: certificate expired 2 days ago (+1 more)");
	/* a single problem about one incident: the thread's root */
	assert_string_equal(mail_get(&mail, "Message-ID"),
			    "<incident.9f2c41d07a6b8e13@example.net>");
	assert_null(mail_get(&mail, "In-Reply-To"));
	assert_null(mail_get(&mail, "References"));
	assert_string_equal(mail_get(&mail, "MIME-Version"), "1.0");
	assert_string_equal(mail_get(&mail, "Content-Type"), "text/plain; charset=utf-8");
	assert_string_equal(mail_get(&mail, "Content-Transfer-Encoding"), "quoted-printable");
	assert_string_equal(mail_get(&mail, "Auto-Submitted"), "auto-generated");
	assert_int_equal(mail.n, 9);
	assert_non_null(strstr(mail.body, "Delivery from compliant senders fails in 6 days, on "
				  "2026-12-14, when the last valid MX certificate expires."));
	assert_non_null(strstr(mail.body, "Fix: renew the certificate and check the renewal job"));
	assert_non_null(strstr(mail.body, "\n-- \nstswatch "));
	assert_null(strstr(req.message, "SMTPPASSWORD"));
	mail_free(&mail);
	channel_request_free(&req);

	/* the resolution threads under the root */
	build_ok(&r, ALERT_RESOLVED, RESOLVED, T_NOW, &req);
	mail_parse(req.message, req.message_len, &mail);
	assert_string_equal(mail_get(&mail, "Message-ID"), "<stswatch." ID "@example.net>");
	assert_string_equal(mail_get(&mail, "In-Reply-To"),
			    "<incident.9f2c41d07a6b8e13@example.net>");
	assert_string_equal(mail_get(&mail, "References"),
			    "<incident.9f2c41d07a6b8e13@example.net>");
	assert_non_null(strstr(mail.body, "Fixed:\n- mx.cert.expired mx1.example.org[192.0.2.1]"));
	mail_free(&mail);
	channel_request_free(&req);

	/* blind: about the domain, no incident to thread under */
	build_ok(&r, ALERT_PROBLEM, BLIND, T_NOW, &req);
	mail_parse(req.message, req.message_len, &mail);
	assert_string_equal(mail_get(&mail, "Message-ID"), "<stswatch." ID "@example.net>");
	assert_null(mail_get(&mail, "References"));
	mail_free(&mail);
	channel_request_free(&req);
}

static void test_email_batch(void **state)
{
	struct receiver r = rcv(CHANNEL_EMAIL);
	struct channel_item items[3] = {
		{ "aaaaaaaaaaaaaaaa", ALERT_ESCALATED, ESCALATED },
		{ "bbbbbbbbbbbbbbbb", ALERT_RESOLVED, RESOLVED },
		{ "cccccccccccccccc", ALERT_FLAPPING, FLAPPING },
	};
	struct channel_msg m = { "batch00000000001", ALERT_DIGEST, T_NOW, 3, items };
	struct channel_request req;
	struct mail mail;
	char err[256];

	(void)state;
	r.from = "stswatch monitor <stswatch@example.net>";
	r.to = to_three;
	r.n_to = 3;
	assert_int_equal(channel_build(&r, &m, T_NOW, &req, err, sizeof(err)), 0);
	assert_int_equal(req.n_rcpt, 3);
	assert_string_equal(req.rcpt[2], to_three[2]);
	mail_parse(req.message, req.message_len, &mail);
	assert_string_equal(mail_get(&mail, "From"), "\"stswatch monitor\" <stswatch@example.net>");
	/* every recipient, folded after a comma */
	assert_string_equal(mail_get(&mail, "To"), "postmaster@example.org, hostmaster@example.org,"
			    " a.very.long.recipient.name.for.folding@subdomain.example.org");
	assert_non_null(strstr(req.message, "hostmaster@example.org,\r\n a.very"));
	assert_string_equal(mail_get(&mail, "Subject"),
			    "[stswatch] 3 notifications: CRITICAL example.org (was WARNING), "
			    "RESOLVED example.org, FLAPPING example.org");
	assert_string_equal(mail_get(&mail, "Message-ID"), "<stswatch.batch00000000001@example.net>");
	assert_string_equal(mail_get(&mail, "References"),
			    "<incident.77aa41d07a6b8e13@example.net> "
			    "<incident.9f2c41d07a6b8e13@example.net>");
	assert_non_null(strstr(mail.body, "stswatch has 3 notifications for you:"));
	assert_non_null(strstr(mail.body, "=== 2 of 3: RESOLVED example.org"));
	assert_non_null(strstr(mail.body, "notifications aaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbb, "
				  "cccccccccccccccc."));
	mail_free(&mail);
	channel_request_free(&req);
}

static void test_email_encoding(void **state)
{
	struct receiver r = rcv(CHANNEL_EMAIL);
	struct channel_request req;
	struct message m;
	struct mail mail;
	char *body, *subject, *expect;
	char *big;
	const char *raw;

	(void)state;
	/* non-ASCII: the subject as encoded-words (lines within 76), decoding to the text */
	r.from = "St\xc3\xbcwatch \xe2\x80\x94 Monitor <stswatch@example.net>";
	build_ok(&r, ALERT_PROBLEM, NONASCII, T_NOW, &req);
	mail_parse(req.message, req.message_len, &mail);
	render(ALERT_PROBLEM, NONASCII, T_NOW, &m, &body);
	subject = decode_words(mail_get(&mail, "Subject"));
	assert_non_null(subject);
	expect = malloc(strlen(m.summary) + 16);
	sprintf(expect, "[stswatch] %s", m.summary);
	assert_string_equal(subject, expect);
	raw = strstr(req.message, "Subject: ");
	assert_non_null(strstr(raw, "?=\r\n =?UTF-8?B?"));	/* folded between words */
	assert_non_null(strstr(mail_get(&mail, "From"), "=?UTF-8?B?"));
	assert_non_null(strstr(mail_get(&mail, "From"), "<stswatch@example.net>"));
	/* the body: UTF-8 through quoted-printable */
	assert_non_null(strstr(mail.body, "Zertifikat l\xc3\xa4uft ab \xe2\x80\x94"));
	assert_non_null(strstr(req.message, "l=C3=A4uft"));
	free(subject);
	free(expect);
	free(body);
	message_free(&m);
	mail_free(&mail);
	channel_request_free(&req);

	/* a long ASCII subject is folded at spaces, within 78 */
	r = rcv(CHANNEL_EMAIL);
	build_ok(&r, ALERT_PROBLEM, PROBLEM, T_NOW, &req);
	raw = strstr(req.message, "Subject: ");
	assert_true(strstr(raw, "\r\n") - raw <= 78);
	assert_true(strstr(raw, "\r\n ") < strstr(raw, "\r\nMessage-ID"));
	channel_request_free(&req);

	/* oversized input: every line still within its limit (checked by mail_parse) */
	big = huge_data();
	build_ok(&r, ALERT_PROBLEM, big, T_NOW, &req);
	mail_parse(req.message, req.message_len, &mail);
	assert_non_null(strstr(mail.body, "... and 20 more findings"));
	assert_non_null(strstr(mail.body, "&<b>"));
	mail_free(&mail);
	channel_request_free(&req);
	free(big);

	/* lines that SMTP or an mbox would touch are encoded (a finding's text starts one) */
	build_ok(&r, ALERT_PROBLEM, DOTS, T_NOW, &req);
	assert_non_null(strstr(req.message, "\r\n=2E x s\r\n"));
	assert_non_null(strstr(req.message, "\r\n=46rom y\r\n"));
	assert_null(strstr(req.message, "\r\n.\r\n"));
	assert_null(strstr(req.message, "\r\nFrom "));
	mail_parse(req.message, req.message_len, &mail);
	assert_non_null(strstr(mail.body, "\n. x s\n"));
	mail_free(&mail);
	channel_request_free(&req);
}

static void test_email_injection(void **state)
{
	struct receiver r = rcv(CHANNEL_EMAIL);
	struct channel_request req;
	struct mail mail;
	static const char *const expected[] = { "Date", "From", "To", "Subject", "Message-ID",
						"MIME-Version", "Content-Type",
						"Content-Transfer-Encoding", "Auto-Submitted" };

	(void)state;
	build_ok(&r, ALERT_PROBLEM, INJECT, T_NOW, &req);
	/* mail_parse fails on a bare CR or LF; the header names are exactly ours */
	mail_parse(req.message, req.message_len, &mail);
	assert_int_equal(mail.n, ARRAY_LEN(expected));
	for (size_t i = 0; i < ARRAY_LEN(expected); i++)
		assert_string_equal(mail.name[i], expected[i]);
	assert_null(mail_get(&mail, "Bcc"));
	assert_null(mail_get(&mail, "X-Injected"));
	assert_non_null(strstr(mail_get(&mail, "Subject"), "example.org Bcc: victim@evil.example"));
	assert_null(strstr(req.message, "\r\nBcc:"));
	assert_null(strstr(req.message, "\r\nX-Injected:"));
	/* the body too: the forged blank line is a space */
	assert_non_null(strstr(mail.body, "name mismatch    Forged body"));
	assert_string_equal(req.rcpt[0], "postmaster@example.org");
	assert_int_equal(req.n_rcpt, 1);
	mail_free(&mail);
	channel_request_free(&req);

	/* HTTP headers: the same text only as one line */
	r = rcv(CHANNEL_NTFY);
	build_ok(&r, ALERT_PROBLEM, INJECT, T_NOW, &req);
	for (size_t i = 0; i < req.n_headers; i++)
		assert_null(strpbrk(req.headers[i], "\r\n"));
	channel_request_free(&req);
}

/* ---- describe: secrets redacted ----------------------------------------------------- */

static void test_describe(void **state)
{
	static char *hdrs[] = { "X-Api-Key: APIKEYSECRET", "X-Trace: visible" };
	struct receiver r = rcv(CHANNEL_WEBHOOK);
	struct channel_request req;
	char *d;

	(void)state;
	r.secret = SECRET;
	r.url = "https://user:PASSINURL@hooks.example.net/hook/TOKENINPATH?k=QUERYSECRET";
	r.headers = hdrs;
	r.n_headers = 2;
	build_ok(&r, ALERT_PROBLEM, PROBLEM, T_NOW, &req);
	d = channel_request_describe(&req);
	assert_non_null(strstr(d, "POST https://hooks.example.net/[redacted] (webhook)"));
	assert_non_null(strstr(d, "webhook-signature: [redacted]"));
	assert_non_null(strstr(d, "X-Api-Key: [redacted]"));
	assert_non_null(strstr(d, "X-Trace: visible"));
	assert_non_null(strstr(d, "webhook-id: " ID));
	assert_non_null(strstr(d, "\"type\":\"stswatch.problem\""));
	assert_null(strstr(d, "APIKEYSECRET"));
	assert_null(strstr(d, "PASSINURL"));
	assert_null(strstr(d, "TOKENINPATH"));
	assert_null(strstr(d, "QUERYSECRET"));
	assert_null(strstr(d, header(&req, "webhook-signature") + 3));
	free(d);
	channel_request_free(&req);

	r = rcv(CHANNEL_SLACK);
	build_ok(&r, ALERT_PROBLEM, PROBLEM, T_NOW, &req);
	d = channel_request_describe(&req);
	assert_non_null(strstr(d, "POST https://hooks.slack.com/[redacted] (slack)"));
	assert_null(strstr(d, "SLACKSECRET"));
	free(d);
	channel_request_free(&req);

	r = rcv(CHANNEL_TEAMS);
	build_ok(&r, ALERT_PROBLEM, PROBLEM, T_NOW, &req);
	d = channel_request_describe(&req);
	assert_null(strstr(d, "TEAMSSECRET"));
	free(d);
	channel_request_free(&req);

	r = rcv(CHANNEL_NTFY);
	r.secret = "tk_NTFYTOKENSECRET";
	build_ok(&r, ALERT_PROBLEM, PROBLEM, T_NOW, &req);
	d = channel_request_describe(&req);
	assert_non_null(strstr(d, "Authorization: [redacted]"));
	assert_null(strstr(d, "NTFYTOKENSECRET"));
	assert_null(strstr(d, "TOPICSECRET"));
	free(d);
	channel_request_free(&req);

	r = rcv(CHANNEL_ALERTMANAGER);
	r.secret = "AMTOKENSECRET";
	build_ok(&r, ALERT_PROBLEM, PROBLEM, T_NOW, &req);
	d = channel_request_describe(&req);
	assert_non_null(strstr(d, "http://alertmanager.example.net:9093/api/v2/alerts"));
	assert_null(strstr(d, "AMTOKENSECRET"));
	free(d);
	channel_request_free(&req);

	r = rcv(CHANNEL_EMAIL);
	r.url = "smtps://stswatch:URLPASS@smtp.example.net:465";
	build_ok(&r, ALERT_PROBLEM, PROBLEM, T_NOW, &req);
	d = channel_request_describe(&req);
	assert_non_null(strstr(d, "SMTP smtps://smtp.example.net:465"));
	assert_non_null(strstr(d, "MAIL FROM:<stswatch@example.net>"));
	assert_non_null(strstr(d, "RCPT TO:<postmaster@example.org>"));
	assert_non_null(strstr(d, "Subject: [stswatch] CRITICAL"));
	assert_null(strstr(d, "URLPASS"));
	assert_null(strstr(d, "SMTPPASSWORD"));
	free(d);
	channel_request_free(&req);
}

static void test_receiver_free(void **state)
{
	struct receiver r;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.name = strdup("ops");
	r.secret = strdup("tk_x");
	r.n_to = 2;
	r.to = calloc(2, sizeof(char *));
	r.to[0] = strdup("a@b.example");
	r.to[1] = strdup("c@d.example");
	r.n_headers = 1;
	r.headers = calloc(1, sizeof(char *));
	r.headers[0] = strdup("X-A: b");
	receiver_free(&r);	/* LeakSanitizer checks it frees everything */
	assert_null(r.name);
	assert_int_equal(r.n_to, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_receiver_check),
		cmocka_unit_test(test_bad_messages),
		cmocka_unit_test(test_message_problem),
		cmocka_unit_test(test_message_countdown),
		cmocka_unit_test(test_message_kinds),
		cmocka_unit_test(test_message_digest),
		cmocka_unit_test(test_webhook_sign_vector),
		cmocka_unit_test(test_webhook),
		cmocka_unit_test(test_slack),
		cmocka_unit_test(test_teams),
		cmocka_unit_test(test_ntfy),
		cmocka_unit_test(test_alertmanager),
		cmocka_unit_test(test_alertmanager_state),
		cmocka_unit_test(test_alertmanager_resend),
		cmocka_unit_test(test_email_problem),
		cmocka_unit_test(test_email_batch),
		cmocka_unit_test(test_email_encoding),
		cmocka_unit_test(test_email_injection),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_receiver_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * email: one RFC 5322 message for one or more notifications of a receiver (a batch), and
 * its SMTP envelope, for libcurl to send (smtp:// with STARTTLS required, or smtps://).
 *
 * Headers: Date, From, To (every recipient), Subject (RFC 2047 "B" encoded-words when not
 * printable ASCII), Message-ID and In-Reply-To/References so that all mail about one
 * problem of one domain threads (docs/ALERT-DATA.md: a single-item problem about one
 * incident is the thread's root <incident.ID@FROMDOMAIN>; every other message is
 * <stswatch.MSGID@FROMDOMAIN> and refers to the roots of every incident it is about),
 * MIME-Version, Content-Type text/plain; charset=utf-8, Auto-Submitted: auto-generated
 * (RFC 3834). Lines end in CRLF, never a bare LF or CR; header lines are folded at 78
 * characters (RFC 5322 2.1.1), those with encoded-words at 76 (RFC 2047 2).
 *
 * Values from the network (domain names, finding text) reach headers only through
 * chan_text_flatten() (every control character, CR and LF among them, becomes a space) and
 * then either stay printable ASCII or are encoded, so no header can be injected.
 *
 * The body is quoted-printable rather than 8bit: 8bit data may only go to a server that
 * offers 8BITMIME (RFC 6152), and libcurl does not negotiate it; quoted-printable is 7-bit,
 * so any relay takes it, and its lines stay within 76 characters (RFC 2045 6.7). Lines
 * starting with "." or "From " are encoded too, so neither SMTP dot-stuffing nor an mbox
 * on the way can change them.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "channel_impl.h"
#include "lib/str.h"
#include "lib/xalloc.h"
#include "message.h"

#define LINE_MAX_ASCII 78	/* RFC 5322 2.1.1: SHOULD be no more than 78 */
#define LINE_MAX_WORDS 76	/* RFC 2047 2: lines with encoded-words, at most 76 */
#define QP_LINE_MAX 76		/* RFC 2045 6.7 (5) */
#define SUBJECT_MAX 200		/* bytes of subject text before encoding */
#define EMAIL_BODY_MAX (512 * 1024)
#define REFS_MAX 50
#define ID_MAX 64

/* ---- addresses ---------------------------------------------------------------------- */

static bool atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+/=?^_`{|}~-", c));
}

bool email_addr_valid(const char *s)
{
	const char *at = s ? strrchr(s, '@') : NULL, *p;
	bool dot = true;	/* "the previous character was a dot (or the start)" */

	if (!at || at == s || strlen(s) > 254 || !at[1])
		return false;
	for (p = s; p < at; p++) {
		if (*p == '.') {
			if (dot)
				return false;
			dot = true;
		} else if (atext((unsigned char)*p)) {
			dot = false;
		} else {
			return false;
		}
	}
	if (dot)
		return false;
	dot = true;
	for (p = at + 1; *p; p++) {
		if (*p == '.') {
			if (dot)
				return false;
			dot = true;
		} else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			   (*p >= '0' && *p <= '9') || *p == '-') {
			dot = false;
		} else {
			return false;
		}
	}
	return !dot;
}

static void trim(char *s)
{
	size_t n = strlen(s), i = 0;

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	memmove(s, s + i, n - i + 1);
}

int email_addr_parse(const char *s, char *addr, size_t addrlen, char *name, size_t namelen)
{
	const char *lt = strchr(s, '<'), *gt = strrchr(s, '>');
	char buf[512];

	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			return -1;
	if (strlen(s) >= sizeof(buf))
		return -1;
	name[0] = '\0';
	if (lt) {
		if (!gt || gt < lt || gt[1 + strspn(gt + 1, " \t")] != '\0')
			return -1;
		bsnprintf(buf, sizeof(buf), "%.*s", (int)(lt - s), s);
		trim(buf);
		if (buf[0] == '"' && strlen(buf) >= 2 && buf[strlen(buf) - 1] == '"') {
			memmove(buf, buf + 1, strlen(buf));
			buf[strlen(buf) - 1] = '\0';
		}
		if (strchr(buf, '"') || strchr(buf, '\\'))
			return -1;
		strlcpy_s(name, buf, namelen);
		bsnprintf(buf, sizeof(buf), "%.*s", (int)(gt - lt - 1), lt + 1);
	} else {
		strlcpy_s(buf, s, sizeof(buf));
	}
	trim(buf);
	if (!email_addr_valid(buf) || strlen(buf) >= addrlen)
		return -1;
	strlcpy_s(addr, buf, addrlen);
	return 0;
}

/* ---- header writing ----------------------------------------------------------------- */

static size_t line_len(const struct dynbuf *b)
{
	size_t i = b->len;

	while (i > 0 && b->buf[i - 1] != '\n')
		i--;
	return b->len - i;
}

void chan_mime_words(struct dynbuf *b, const char *s, size_t first_avail, size_t avail,
		     const char *sep)
{
	size_t len = strlen(s), off = 0;
	bool first = true;

	if (avail < 16)
		avail = 16;
	do {
		size_t room = first ? first_avail : avail, max, n;
		char b64[128];

		if (room < 16) {	/* no room for one character here: start on the next line */
			dynbuf_printf(b, "%s", sep);
			first = false;
			continue;
		}
		max = (room - 12) / 4 * 3;	/* "=?UTF-8?B?" and "?=" are 12 characters */
		if (max > 90)
			max = 90;
		n = chan_utf8_prefix(s + off, len - off, max);
		if (n == 0 && off < len) {	/* a character longer than max: cannot happen */
			n = 1;
			while (off + n < len && ((unsigned char)s[off + n] & 0xC0) == 0x80)
				n++;
		}
		EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)s + off, (int)n);
		dynbuf_printf(b, "%s=?UTF-8?B?%s?=", first ? "" : sep, b64);
		off += n;
		first = false;
	} while (off < len);
}

static bool printable_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* An unstructured header (Subject): folded printable ASCII, or encoded-words. */
static void header_text(struct dynbuf *b, const char *name, const char *value)
{
	char *v = xstrdup(value), *save = NULL, *w;
	size_t start = b->len, words = 0;
	bool encode;

	chan_text_flatten(v);
	encode = !printable_ascii(v) || strstr(v, "=?");
	dynbuf_printf(b, "%s:", name);
	if (!encode) {
		for (w = strtok_r(v, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
			if (strlen(w) + 1 + strlen(name) + 1 > LINE_MAX_ASCII) {
				encode = true;	/* a word no fold can fit: encode the value */
				break;
			}
			if (words && line_len(b) + 1 + strlen(w) > LINE_MAX_ASCII)
				dynbuf_printf(b, "\r\n");
			dynbuf_printf(b, " %s", w);
			words++;
		}
		if (encode) {
			b->len = start;
			b->buf[start] = '\0';
			free(v);
			v = xstrdup(value);
			chan_text_flatten(v);
			dynbuf_printf(b, "%s:", name);
		}
	}
	if (encode) {
		dynbuf_printf(b, " ");
		chan_mime_words(b, v, LINE_MAX_WORDS - line_len(b), LINE_MAX_WORDS - 1, "\r\n ");
	}
	dynbuf_printf(b, "\r\n");
	free(v);
}

/* A structured header of tokens (addresses, msg-ids), folded between tokens. */
static void header_tokens(struct dynbuf *b, const char *name, char *const *tok, size_t n,
			  const char *join)
{
	dynbuf_printf(b, "%s:", name);
	for (size_t i = 0; i < n; i++) {
		size_t tl = strlen(tok[i]) + (i + 1 < n ? strlen(join) : 0);

		if (i && line_len(b) + 1 + tl > LINE_MAX_ASCII)
			dynbuf_printf(b, "\r\n");
		dynbuf_printf(b, " %s%s", tok[i], i + 1 < n ? join : "");
	}
	dynbuf_printf(b, "\r\n");
}

static void header_from(struct dynbuf *b, const char *addr, const char *name)
{
	size_t limit = LINE_MAX_ASCII;

	dynbuf_printf(b, "From:");
	if (name[0] && printable_ascii(name) && !strstr(name, "=?") &&
	    strlen(name) + 9 <= LINE_MAX_ASCII) {
		dynbuf_printf(b, " \"%s\"", name);	/* no " or \ in it (email_addr_parse) */
	} else if (name[0]) {
		dynbuf_printf(b, " ");
		chan_mime_words(b, name, LINE_MAX_WORDS - line_len(b), LINE_MAX_WORDS - 1,
				"\r\n ");
		limit = LINE_MAX_WORDS;	/* the address would share a line with a word */
	}
	if (name[0] && line_len(b) + 3 + strlen(addr) > limit)
		dynbuf_printf(b, "\r\n");
	dynbuf_printf(b, name[0] ? " <%s>\r\n" : " %s\r\n", addr);
}

static void header_date(struct dynbuf *b, time_t now)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	if (!gmtime_r(&now, &tm))
		memset(&tm, 0, sizeof(tm));
	dynbuf_printf(b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday % 7],
		      tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		      tm.tm_sec);
}

/* ---- the body ----------------------------------------------------------------------- */

static void qp_line(struct dynbuf *b, const char *s, size_t n)
{
	size_t col = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool lit = (c >= 33 && c <= 126 && c != '=') ||
			   ((c == ' ' || c == '\t') && i + 1 < n);
		char enc[4];
		size_t el;

		if (i == 0 && (c == '.' || (n >= 5 && memcmp(s, "From ", 5) == 0)))
			lit = false;
		if (lit) {
			enc[0] = (char)c;
			enc[1] = '\0';
			el = 1;
		} else {
			bsnprintf(enc, sizeof(enc), "=%02X", c);
			el = 3;
		}
		if (col + el > QP_LINE_MAX - 1) {	/* room for the soft break's "=" */
			dynbuf_printf(b, "=\r\n");
			col = 0;
		}
		dynbuf_append(b, enc, el);
		col += el;
	}
	dynbuf_printf(b, "\r\n");
}

static void qp_encode(struct dynbuf *b, const char *text)
{
	const char *p = text;

	while (*p) {
		size_t n = strcspn(p, "\n");
		size_t k = n && p[n - 1] == '\r' ? n - 1 : n;

		qp_line(b, p, k);
		p += n;
		if (*p == '\n')
			p++;
	}
}

/* ---- threading ---------------------------------------------------------------------- */

static bool id_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (!n || n > ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '-' || s[i] == '_'))
			return false;
	return true;
}

static void add_incident(char **ids, size_t *n, const char *id)
{
	if (!id_ok(id) || *n >= REFS_MAX)
		return;
	for (size_t i = 0; i < *n; i++)
		if (strcmp(ids[i], id) == 0)
			return;
	ids[(*n)++] = xstrdup(id);
}

/* ---- the message -------------------------------------------------------------------- */

static void subject_of(struct dynbuf *s, const struct message *msgs, size_t n)
{
	dynbuf_printf(s, "[stswatch] ");
	if (n == 1) {
		dynbuf_printf(s, "%s", msgs[0].summary);
		return;
	}
	dynbuf_printf(s, "%zu notifications: ", n);
	for (size_t i = 0; i < n && s->len < SUBJECT_MAX; i++) {
		const char *sum = msgs[i].summary, *colon = strchr(sum, ':');
		size_t len = colon ? (size_t)(colon - sum) : strlen(sum);

		/* "CRITICAL example.org (was WARNING)": the part before the first colon */
		dynbuf_printf(s, "%s%.*s", i ? ", " : "", (int)chan_utf8_prefix(sum, len, 60), sum);
	}
}

int email_build(const struct receiver *r, const struct channel_msg *m, json_t *const *data,
		time_t now, struct channel_request *out, char *err, size_t errlen)
{
	struct message *msgs = xcalloc(m->n, sizeof(*msgs));
	char addr[256], name[256], why[200], *ids[REFS_MAX], *refs[REFS_MAX];
	char *subject = NULL, *msgid = NULL, *body = NULL;
	struct dynbuf hdr, text, subj;
	size_t n_ids = 0;
	bool root;
	int rc = -1;

	dynbuf_init(&hdr, 0);
	dynbuf_init(&text, 0);
	dynbuf_init(&subj, 0);
	if (email_addr_parse(r->from, addr, sizeof(addr), name, sizeof(name)) < 0) {
		bsnprintf(err, errlen, "receiver %s: from is not an address", r->name);
		goto out;
	}
	for (size_t i = 0; i < m->n; i++) {
		const json_t *incs = json_object_get(data[i], "incidents"), *inc;
		size_t k, n_incs = json_array_size(incs);

		if (message_render(m->items[i].kind, data[i], now, &msgs[i], why,
				   sizeof(why)) < 0) {
			bsnprintf(err, errlen, "receiver %s: notification %s: %s", r->name,
				  m->items[i].id, why);
			goto out;
		}
		add_incident(ids, &n_ids, chan_jstr(data[i], "incident"));
		if (json_is_array(incs))
			for (k = 0; k < n_incs && (inc = json_array_get(incs, k)); k++)
				add_incident(ids, &n_ids, chan_jstr(inc, "id"));
	}

	/* the root of a thread, or a message in the threads of its incidents */
	root = m->n == 1 && m->items[0].kind == ALERT_PROBLEM && n_ids == 1;
	msgid = root ? xasprintf("<incident.%s@%s>", ids[0], strrchr(addr, '@') + 1)
		     : xasprintf("<stswatch.%s@%s>", m->id, strrchr(addr, '@') + 1);

	header_date(&hdr, now);
	header_from(&hdr, addr, name);
	header_tokens(&hdr, "To", r->to, r->n_to, ",");
	subject_of(&subj, msgs, m->n);
	subject = chan_text_cut(subj.buf, SUBJECT_MAX);
	header_text(&hdr, "Subject", subject);
	header_tokens(&hdr, "Message-ID", &msgid, 1, "");
	if (!root && n_ids) {
		for (size_t i = 0; i < n_ids; i++)
			refs[i] = xasprintf("<incident.%s@%s>", ids[i], strrchr(addr, '@') + 1);
		header_tokens(&hdr, "In-Reply-To", refs, n_ids, "");
		header_tokens(&hdr, "References", refs, n_ids, "");
		for (size_t i = 0; i < n_ids; i++)
			free(refs[i]);
	}
	dynbuf_printf(&hdr, "MIME-Version: 1.0\r\n"
		      "Content-Type: text/plain; charset=utf-8\r\n"
		      "Content-Transfer-Encoding: quoted-printable\r\n"
		      "Auto-Submitted: auto-generated\r\n"
		      "\r\n");

	if (m->n > 1) {
		dynbuf_printf(&text, "stswatch has %zu notifications for you:\n\n", m->n);
		for (size_t i = 0; i < m->n; i++)
			dynbuf_printf(&text, "%zu. %s\n", i + 1, msgs[i].summary);
	}
	for (size_t i = 0; i < m->n; i++) {
		body = message_body(&msgs[i]);
		if (m->n > 1)
			dynbuf_printf(&text, "\n=== %zu of %zu: %s ===\n\n", i + 1, m->n,
				      msgs[i].summary);
		if (text.len + strlen(body) > EMAIL_BODY_MAX)
			dynbuf_printf(&text, "(The full text of this notification is left out: the "
				      "message would be too large. `stswatch alerts` has it.)\n");
		else
			dynbuf_printf(&text, "%s", body);
		free(body);
		body = NULL;
	}
	dynbuf_printf(&text, "\n-- \nstswatch %s; notification%s", STSWATCH_VERSION,
		      m->n == 1 ? "" : "s");
	for (size_t i = 0; i < m->n; i++)
		dynbuf_printf(&text, "%s %s", i ? "," : "", m->items[i].id);
	dynbuf_printf(&text, ".\n");
	qp_encode(&hdr, text.buf);

	out->kind = CHANNEL_EMAIL;
	out->url = xstrdup(r->url);
	out->mail_from = xstrdup(addr);
	out->rcpt = xcalloc(r->n_to, sizeof(*out->rcpt));
	for (size_t i = 0; i < r->n_to; i++)
		out->rcpt[i] = xstrdup(r->to[i]);
	out->n_rcpt = r->n_to;
	out->message_len = hdr.len;
	out->message = dynbuf_steal(&hdr);
	rc = 0;
out:
	for (size_t i = 0; i < m->n; i++)
		message_free(&msgs[i]);
	for (size_t i = 0; i < n_ids; i++)
		free(ids[i]);
	free(msgs);
	free(subject);
	free(msgid);
	free(body);
	dynbuf_free(&hdr);
	dynbuf_free(&text);
	dynbuf_free(&subj);
	return rc;
}

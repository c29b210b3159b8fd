/* Unit tests of the delivery policy: classification, Retry-After, backoff, expiry. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/alert.h"
#include "alerts/alert_json.h"
#include "alerts/outbox.h"

#define T0 ((time_t)1800000000)

static void test_classify(void **state)
{
	static const struct {
		bool smtp, ok, permanent;
		long code;
		enum outbox_result want;
	} rows[] = {
		{ false, true, false, 200, OUTBOX_SENT },
		{ false, true, false, 204, OUTBOX_SENT },
		{ false, true, false, 301, OUTBOX_FAILED },	/* redirects are not followed */
		{ false, true, false, 400, OUTBOX_FAILED },
		{ false, true, false, 401, OUTBOX_FAILED },
		{ false, true, false, 404, OUTBOX_FAILED },
		{ false, true, false, 408, OUTBOX_RETRY },
		{ false, true, false, 410, OUTBOX_DISABLED },
		{ false, true, false, 429, OUTBOX_RETRY },
		{ false, true, false, 500, OUTBOX_RETRY },
		{ false, true, false, 503, OUTBOX_RETRY },
		{ false, false, false, 0, OUTBOX_RETRY },	/* refused, timed out, hung up */
		{ false, false, true, 0, OUTBOX_FAILED },	/* a malformed URL */
		{ true, true, false, 250, OUTBOX_SENT },
		{ true, false, false, 421, OUTBOX_RETRY },
		{ true, false, false, 451, OUTBOX_RETRY },
		{ true, false, false, 550, OUTBOX_FAILED },
		{ true, false, false, 0, OUTBOX_RETRY },
		{ true, false, true, 0, OUTBOX_FAILED },	/* no STARTTLS, login refused */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(outbox_classify(rows[i].smtp, rows[i].ok, rows[i].permanent,
						 rows[i].code), rows[i].want);
}

static void test_retry_after(void **state)
{
	(void)state;
	assert_int_equal(outbox_retry_after("120", T0), 120);
	assert_int_equal(outbox_retry_after(" 7 ", T0), 7);
	assert_int_equal(outbox_retry_after("0", T0), 0);
	assert_int_equal(outbox_retry_after("99999999", T0), OUTBOX_RETRY_AFTER_MAX);
	assert_int_equal(outbox_retry_after("-5", T0), -1);
	assert_int_equal(outbox_retry_after("12abc", T0), -1);
	assert_int_equal(outbox_retry_after("", T0), -1);
	assert_int_equal(outbox_retry_after(NULL, T0), -1);
	/* 1800000000 is Fri, 15 Jan 2027 08:00:00 GMT */
	assert_int_equal(outbox_retry_after("Fri, 15 Jan 2027 08:01:40 GMT", T0), 100);
	assert_int_equal(outbox_retry_after("Fri, 15 Jan 2027 07:00:00 GMT", T0), 0);
	assert_int_equal(outbox_retry_after("Fri, 15 Jan 2027 08:01:40 CET", T0), -1);
	assert_int_equal(outbox_retry_after("tomorrow", T0), -1);
}

static void test_backoff(void **state)
{
	time_t prev = 0;

	(void)state;
	for (unsigned a = 1; a <= 12; a++) {
		time_t t = outbox_next_attempt("abc", a, T0, -1);
		double base = 30;

		for (unsigned i = 1; i < a && base < 3600; i++)
			base *= 2;
		if (base > 3600)
			base = 3600;
		assert_true(t - T0 >= (time_t)(base * 0.8) - 1);
		assert_true(t - T0 <= (time_t)(base * 1.2) + 1);
		assert_int_equal(outbox_next_attempt("abc", a, T0, -1), t);	/* repeatable */
		if (a > 1 && base < 3600)
			assert_true(t > prev - 60);
		prev = t;
	}
	/* jitter spreads receivers retrying together */
	assert_int_not_equal(outbox_next_attempt("a1", 3, T0, -1), outbox_next_attempt("a2", 3, T0, -1));
	/* Retry-After is never undercut */
	assert_int_equal(outbox_next_attempt("abc", 1, T0, 900), T0 + 900);
	assert_true(outbox_next_attempt("abc", 10, T0, 5) - T0 >= 2880);
	/* a day of a receiver down: about 30 tries, none more than 72 min apart */
	{
		time_t t = T0;
		unsigned n = 0;

		while (t < T0 + 86400) {
			time_t next = outbox_next_attempt("day", ++n, t, -1);

			assert_true(next - t <= 4320);
			t = next;
		}
		assert_true(n >= 24 && n <= 40);
	}
}

static void test_expiry(void **state)
{
	(void)state;
	assert_false(outbox_expired(T0, T0 + 3 * 86400 - 1, 3 * 86400));
	assert_true(outbox_expired(T0, T0 + 3 * 86400, 3 * 86400));
	assert_false(outbox_expired(T0, T0 + 999 * 86400, 0));	/* 0: never */
}

/* The alert state round-trips through its JSON; damage is refused, not half-read. */
static void test_state_json(void **state)
{
	struct alert_state s, back;
	json_t *j;
	char err[128], *text;

	(void)state;
	alert_state_init(&s);
	s.flap_bits = 0x155;
	s.flap_n = 9;
	s.last_status = ALERT_CRITICAL;
	s.fails_at = T0 + 5;
	s.reminded = 3;
	s.last_sent = T0;
	s.n = 1;
	s.v = calloc(1, sizeof(*s.v));
	strcpy(s.v[0].id, "0123456789abcdef");
	strcpy(s.v[0].cause, "mx:mx1.example.org");
	s.v[0].sev = ALERT_CRITICAL;
	s.v[0].told = ALERT_WARNING;
	s.v[0].open = true;
	s.v[0].opened_at = T0 - 60;
	s.v[0].n_keys = 2;
	s.v[0].keys = calloc(2, sizeof(*s.v[0].keys));
	strcpy(s.v[0].keys[0], "mx.cert.expired mx1.example.org[192.0.2.1]");
	strcpy(s.v[0].keys[1], "mx.cert.expired mx1.example.org[2001:db8::1]");
	j = alert_state_to_json(&s);
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	j = json_loads(text, 0, NULL);
	assert_int_equal(alert_state_from_json(j, &back, err, sizeof(err)), 0);
	assert_int_equal(back.flap_bits, 0x155);
	assert_int_equal(back.fails_at, T0 + 5);
	assert_int_equal(back.n, 1);
	assert_string_equal(back.v[0].id, "0123456789abcdef");
	assert_int_equal(back.v[0].told, ALERT_WARNING);
	assert_int_equal(back.v[0].n_keys, 2);
	assert_string_equal(back.v[0].keys[1], "mx.cert.expired mx1.example.org[2001:db8::1]");
	assert_int_equal(back.v[0].n_told, 0);
	alert_state_free(&back);
	json_decref(j);
	free(text);

	/* a damaged row: refused whole */
	j = json_loads("{\"v\":1,\"incidents\":[{\"id\":\"x\"}]}", 0, NULL);
	assert_int_equal(alert_state_from_json(j, &back, err, sizeof(err)), -1);
	assert_int_equal(back.n, 0);
	json_decref(j);
	j = json_loads("[1,2]", 0, NULL);
	assert_int_equal(alert_state_from_json(j, &back, err, sizeof(err)), -1);
	json_decref(j);
	alert_state_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_state_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

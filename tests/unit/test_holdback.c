/* Unit tests of the holdback: domains waiting for the vantage verdict, oldest first, bounded. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "agent/holdback.h"

static void test_fifo_and_bound(void **state)
{
	struct holdback hb;
	struct domain_facts df;
	struct held h;

	(void)state;
	holdback_init(&hb);
	assert_null(holdback_oldest(&hb));
	assert_false(holdback_take(&hb, &h));
	for (size_t i = 0; i < VANTAGE_HOLD_MAX; i++) {
		fixture_healthy(&df);
		snprintf(df.domain, sizeof(df.domain), "d%zu.example", i);
		assert_int_equal(holdback_put(&hb, i, &df, 1000 + i), 0);
		assert_null(df.mx);	/* taken */
	}
	assert_int_equal(holdback_count(&hb), VANTAGE_HOLD_MAX);
	fixture_healthy(&df);
	assert_int_equal(holdback_put(&hb, 99, &df, 5000), -1);	/* full: left as it was */
	assert_non_null(df.mx);
	/* oldest first; the ring wraps */
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(holdback_oldest(&hb)->key, i);
		assert_true(holdback_take(&hb, &h));
		assert_int_equal(h.key, i);
		assert_int_equal(h.since_ms, 1000 + i);
		assert_non_null(h.df.mx);
		domain_facts_free(&h.df);
	}
	assert_int_equal(holdback_put(&hb, 99, &df, 5000), 0);
	assert_int_equal(holdback_oldest(&hb)->key, 3);
	assert_string_equal(holdback_oldest(&hb)->df.domain, "d3.example");
	/* what is left is dropped, its facts freed (LeakSanitizer under make check) */
	assert_int_equal(holdback_free(&hb), VANTAGE_HOLD_MAX - 2);
	assert_int_equal(holdback_count(&hb), 0);
	assert_null(holdback_oldest(&hb));
	assert_int_equal(holdback_free(&hb), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_and_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

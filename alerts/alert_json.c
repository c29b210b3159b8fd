/* alert_json: an alert state as JSON text, the way the database keeps it between checks. */
#include "alert_json.h"

#include <string.h>

#include "lib/str.h"
#include "lib/xalloc.h"

#define STATE_VERSION 1

static json_t *keys_json(char (*keys)[ALERT_KEY_LEN], size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(keys[i]));
	return a;
}

json_t *alert_state_to_json(const struct alert_state *s)
{
	json_t *o = json_object(), *inc = json_array();

	json_object_set_new(o, "v", json_integer(STATE_VERSION));
	json_object_set_new(o, "flap_bits", json_integer(s->flap_bits));
	json_object_set_new(o, "flap_n", json_integer(s->flap_n));
	json_object_set_new(o, "last_status", json_integer(s->last_status));
	json_object_set_new(o, "flapping", json_boolean(s->flapping));
	json_object_set_new(o, "flap_told", json_boolean(s->flap_told));
	json_object_set_new(o, "unknown_since", json_integer(s->unknown_since));
	json_object_set_new(o, "blind_told", json_boolean(s->blind_told));
	json_object_set_new(o, "fails_at", json_integer(s->fails_at));
	json_object_set_new(o, "reminded", json_integer(s->reminded));
	json_object_set_new(o, "last_sent", json_integer(s->last_sent));
	for (size_t i = 0; i < s->n; i++) {
		const struct alert_incident *in = &s->v[i];
		json_t *j = json_object();

		json_object_set_new(j, "id", json_string(in->id));
		json_object_set_new(j, "cause", json_string(in->cause));
		json_object_set_new(j, "sev", json_integer(in->sev));
		json_object_set_new(j, "told", json_integer(in->told));
		json_object_set_new(j, "soft", json_integer(in->soft));
		json_object_set_new(j, "transient", json_boolean(in->transient));
		json_object_set_new(j, "open", json_boolean(in->open));
		json_object_set_new(j, "opened_at", json_integer(in->opened_at));
		json_object_set_new(j, "told_at", json_integer(in->told_at));
		json_object_set_new(j, "keys", keys_json(in->keys, in->n_keys));
		json_object_set_new(j, "told_keys", keys_json(in->told_keys, in->n_told));
		json_array_append_new(inc, j);
	}
	json_object_set_new(o, "incidents", inc);
	return o;
}

static json_int_t get_int(const json_t *o, const char *k, json_int_t lo, json_int_t hi, bool *ok)
{
	const json_t *v = json_object_get(o, k);
	json_int_t n;

	if (!json_is_integer(v)) {
		*ok = false;
		return 0;
	}
	n = json_integer_value(v);
	if (n < lo || n > hi)
		*ok = false;
	return n;
}

static bool get_bool(const json_t *o, const char *k, bool *ok)
{
	const json_t *v = json_object_get(o, k);

	if (!json_is_boolean(v))
		*ok = false;
	return json_is_true(v);
}

static size_t get_keys(const json_t *o, const char *k, char (**out)[ALERT_KEY_LEN], bool *ok)
{
	const json_t *a = json_object_get(o, k);
	size_t n = json_array_size(a);

	*out = NULL;
	if (!json_is_array(a) || n > ALERT_KEYS_MAX) {
		*ok = false;
		return 0;
	}
	if (!n)
		return 0;
	*out = xcalloc(n, sizeof(**out));
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(a, i));

		if (!s || strlcpy_s((*out)[i], s, ALERT_KEY_LEN) >= ALERT_KEY_LEN)
			*ok = false;
	}
	return n;
}

static bool get_str(const json_t *o, const char *k, char *dst, size_t len)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s && strlcpy_s(dst, s, len) < len;
}

int alert_state_from_json(const json_t *j, struct alert_state *s, char *err, size_t errlen)
{
	const json_t *inc = json_object_get(j, "incidents");
	const json_int_t tmax = (json_int_t)1 << 40;
	bool ok = true;

	alert_state_init(s);
	if (!json_is_object(j) || get_int(j, "v", 1, 1, &ok) != STATE_VERSION || !ok ||
	    !json_is_array(inc)) {
		bsnprintf(err, errlen, "not an alert state of this version");
		return -1;
	}
	s->flap_bits = (uint32_t)get_int(j, "flap_bits", 0, 0xffffffffll, &ok);
	s->flap_n = (unsigned)get_int(j, "flap_n", 0, 32, &ok);
	s->last_status = (enum alert_status)get_int(j, "last_status", 0, 3, &ok);
	s->flapping = get_bool(j, "flapping", &ok);
	s->flap_told = get_bool(j, "flap_told", &ok);
	s->unknown_since = (time_t)get_int(j, "unknown_since", 0, tmax, &ok);
	s->blind_told = get_bool(j, "blind_told", &ok);
	s->fails_at = (time_t)get_int(j, "fails_at", 0, tmax, &ok);
	s->reminded = (uint32_t)get_int(j, "reminded", 0, 0xffffffffll, &ok);
	s->last_sent = (time_t)get_int(j, "last_sent", 0, tmax, &ok);
	if (json_array_size(inc) > 1024)
		ok = false;
	for (size_t i = 0; ok && i < json_array_size(inc); i++) {
		const json_t *o = json_array_get(inc, i);
		struct alert_incident *in;

		s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
		in = &s->v[s->n++];
		memset(in, 0, sizeof(*in));
		if (!json_is_object(o) || !get_str(o, "id", in->id, sizeof(in->id)) ||
		    !get_str(o, "cause", in->cause, sizeof(in->cause))) {
			ok = false;
			break;
		}
		in->sev = (enum alert_status)get_int(o, "sev", 0, 3, &ok);
		in->told = (enum alert_status)get_int(o, "told", 0, 3, &ok);
		in->soft = (unsigned)get_int(o, "soft", 0, 1000000, &ok);
		in->transient = get_bool(o, "transient", &ok);
		in->open = get_bool(o, "open", &ok);
		in->opened_at = (time_t)get_int(o, "opened_at", 0, tmax, &ok);
		in->told_at = (time_t)get_int(o, "told_at", 0, tmax, &ok);
		in->n_keys = get_keys(o, "keys", &in->keys, &ok);
		in->n_told = get_keys(o, "told_keys", &in->told_keys, &ok);
	}
	if (!ok) {
		alert_state_free(s);
		bsnprintf(err, errlen, "a field of the alert state is missing or out of range");
		return -1;
	}
	return 0;
}

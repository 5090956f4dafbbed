/* strict: completing a JSON schema for OpenAI's strict mode; see strict.h. */
#include <string.h>

#include "json/json.h"
#include "model/strict.h"

static jv complete(jv s, int *bad);

/* S (consumed), a property that was optional, made nullable. */
static jv nullable(jv s)
{
	jv t = json_get(s, "type");
	if (jv_get_kind(t) == JV_KIND_STRING && !json_has(s, "enum") && !json_has(s, "const")) {
		jv both = jv_array_append(jv_array_append(jv_array(), jv_copy(t)), jv_string("null"));
		jv_free(t);
		return strcmp(json_str_or(s, "type", ""), "null") ? json_set(s, "type", both)
		                                                  : (jv_free(both), s);
	}
	if (jv_get_kind(t) == JV_KIND_ARRAY && !json_has(s, "enum") && !json_has(s, "const")) {
		int has = 0;
		jv_array_foreach(t, i, e) {
			(void)i;
			has |= jv_get_kind(e) == JV_KIND_STRING && !strcmp(jv_string_value(e), "null");
			jv_free(e);
		}
		return has ? (jv_free(t), s) : json_set(s, "type", jv_array_append(t, jv_string("null")));
	}
	jv_free(t);
	jv null = json_set(jv_object(), "type", jv_string("null"));
	return json_set(jv_object(), "anyOf", jv_array_append(jv_array_append(jv_array(), s), null));
}

/* Completes each value of the object or array KEY of S. */
static jv each(jv s, const char *key, int *bad)
{
	jv v = json_get(s, key);
	if (jv_get_kind(v) == JV_KIND_OBJECT) {
		jv out = jv_object();
		jv_object_foreach(v, k, e) out = jv_object_set(out, k, complete(e, bad));
		jv_free(v);
		return json_set(s, key, out);
	}
	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		jv out = jv_array();
		jv_array_foreach(v, i, e) {
			(void)i;
			out = jv_array_append(out, complete(e, bad));
		}
		jv_free(v);
		return json_set(s, key, out);
	}
	jv_free(v);
	return s;
}

static jv complete(jv s, int *bad)
{
	if (jv_get_kind(s) != JV_KIND_OBJECT)
		return s;
	jv props = json_get(s, "properties");
	if (jv_get_kind(props) == JV_KIND_OBJECT) {
		jv add = json_get(s, "additionalProperties");
		if (jv_is_valid(add) && jv_get_kind(add) != JV_KIND_FALSE)
			*bad = 1; /* it allows others: strict would forbid them */
		jv_free(add);
		jv req = json_get(s, "required");
		jv out = jv_object(), all = jv_array();
		jv_object_foreach(props, k, v) {
			int required = 0;
			if (jv_get_kind(req) == JV_KIND_ARRAY)
				jv_array_foreach(req, i, r) {
					(void)i;
					required |= jv_equal(r, jv_copy(k));
				}
			v = complete(v, bad);
			all = jv_array_append(all, jv_copy(k));
			out = jv_object_set(out, k, required ? v : nullable(v));
		}
		jv_free(req);
		s = json_set(json_set(json_set(s, "properties", out), "required", all),
		             "additionalProperties", jv_false());
	}
	jv_free(props);
	if (json_has(s, "items")) /* one schema */
		s = json_set(s, "items", complete(json_get(s, "items"), bad));
	static const char *const nested[] = { "anyOf", "$defs", "definitions" }; /* several */
	for (size_t i = 0; i < sizeof nested / sizeof *nested; i++)
		s = each(s, nested[i], bad);
	return s;
}

jv strict_schema(jv schema)
{
	int bad = !json_has(schema, "properties") ||
	          strcmp(json_str_or(schema, "type", "object"), "object");
	jv out = complete(schema, &bad);
	if (bad) {
		jv_free(out);
		return jv_invalid();
	}
	return out;
}

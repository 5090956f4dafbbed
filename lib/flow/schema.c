/* schema: checking a resume schema and an input against it; see schema.h. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "flow/schema.h"

enum { T_STRING, T_BOOLEAN, T_INTEGER, T_FLOAT, T_MAP, T_LIST, T_BAD };
static const char *const names[] = { "string", "boolean", "integer", "float", "map", "list" };

/* The type named by S (N bytes, without any "?"), or T_BAD. */
static int type_of(const char *s, size_t n)
{
	for (int t = 0; t < T_BAD; t++)
		if (strlen(names[t]) == n && !memcmp(names[t], s, n))
			return t;
	return T_BAD;
}

/* PATH extended by KEY (or [I] if KEY is NULL) into OUT. */
static void sub(char *out, size_t size, const char *path, const char *key, int i)
{
	if (!key)
		snprintf(out, size, "%s[%d]", path, i);
	else if (*path)
		snprintf(out, size, "%s.%s", path, key);
	else
		snprintf(out, size, "%s", key);
}

static int check_type(jv t, const char *path, char *why, size_t size);

static int check_object(jv s, const char *path, char *why, size_t size)
{
	int rc = 0;
	jv_object_foreach(s, k, v)
	{
		char p[256];
		sub(p, sizeof p, path, jv_string_value(k), 0);
		if (!rc && !jv_string_length_bytes(jv_copy(k))) {
			snprintf(why, size, "schema: a field name is empty%s%s", *path ? " in " : "", path);
			rc = -1;
		}
		if (!rc)
			rc = check_type(v, p, why, size);
		jv_free(k);
		jv_free(v);
	}
	return rc;
}

static int check_type(jv t, const char *path, char *why, size_t size)
{
	switch (jv_get_kind(t)) {
	case JV_KIND_STRING: {
		const char *s = jv_string_value(t);
		size_t n = strlen(s);
		if (n && s[n - 1] == '?')
			n--;
		if (type_of(s, n) != T_BAD)
			return 0;
		snprintf(why, size,
		         "schema: field '%s': unknown type '%s' (string, boolean, integer, float, map or list; with ? if optional; an array of one type for a list of it)",
		         path, s);
		return -1;
	}
	case JV_KIND_OBJECT:
		return check_object(t, path, why, size);
	case JV_KIND_ARRAY:
		if (jv_array_length(jv_copy(t)) == 1) {
			char p[256];
			sub(p, sizeof p, path, NULL, 0);
			jv item = jv_array_get(jv_copy(t), 0);
			int rc = check_type(item, p, why, size);
			jv_free(item);
			return rc;
		}
		snprintf(why, size, "schema: field '%s': a list type is an array of one type", path);
		return -1;
	default:
		snprintf(why, size, "schema: field '%s': a type is a string, an object or [type], got %s",
		         path, jv_kind_name(jv_get_kind(t)));
		return -1;
	}
}

int flow_schema_check(jv schema, char *why, size_t size)
{
	if (jv_get_kind(schema) != JV_KIND_OBJECT) {
		snprintf(why, size, "schema: expected an object of fields and types, got %s",
		         jv_kind_name(jv_get_kind(schema)));
		return -1;
	}
	return check_object(schema, "", why, size);
}

static const char *kind_text(jv v)
{
	switch (jv_get_kind(v)) {
	case JV_KIND_OBJECT: return "map";
	case JV_KIND_ARRAY: return "list";
	case JV_KIND_TRUE:
	case JV_KIND_FALSE: return "boolean";
	case JV_KIND_NUMBER: {
		double d = jv_number_value(v);
		return d == floor(d) && fabs(d) < 9007199254740992.0 ? "integer" : "float";
	}
	default: return jv_kind_name(jv_get_kind(v));
	}
}

/* Where a validation puts what it finds: the first error's text in WHY,
 * and every error as {field, message} in ERRORS (if valid), at most
 * FLOW_SCHEMA_ERRORS_MAX; ALL: go on after the first. */
struct found {
	char *why;
	size_t size;
	jv errors;
	int all, n;
};

/* An error about the field at PATH ("" for the input itself): -1 if the
 * validation stops here, 0 if it goes on. */
static int __attribute__((format(printf, 3, 4))) fail(struct found *f, const char *path,
                                                       const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!f->n)
		snprintf(f->why, f->size, "%s", msg);
	f->n++;
	if (jv_is_valid(f->errors) && f->n <= FLOW_SCHEMA_ERRORS_MAX)
		f->errors = jv_array_append(
			f->errors, jv_object_set(jv_object_set(jv_object(), jv_string("field"),
			                                       *path ? jv_string(path) : jv_null()),
			                         jv_string("message"), jv_string(msg)));
	return f->all && f->n < FLOW_SCHEMA_ERRORS_MAX ? 0 : -1;
}

static int validate(jv t, jv v, const char *path, struct found *f);

static int is_optional(jv t)
{
	if (jv_get_kind(t) != JV_KIND_STRING)
		return 0;
	const char *s = jv_string_value(t);
	size_t n = strlen(s);
	return n && s[n - 1] == '?';
}

static int validate_object(jv s, jv v, const char *path, struct found *f)
{
	int rc = 0;
	jv_object_foreach(s, k, t)
	{
		char p[256];
		sub(p, sizeof p, path, jv_string_value(k), 0);
		jv x = rc ? jv_invalid() : jv_object_get(jv_copy(v), jv_copy(k));
		int optional = is_optional(t);
		if (rc) {
		} else if (!jv_is_valid(x) || (optional && jv_get_kind(x) == JV_KIND_NULL)) {
			if (!optional)
				rc = fail(f, p, "missing field '%s'", p);
		} else {
			rc = validate(t, x, p, f);
		}
		jv_free(x);
		jv_free(k);
		jv_free(t);
	}
	return rc;
}

static int validate(jv t, jv v, const char *path, struct found *f)
{
	int want;
	if (jv_get_kind(t) == JV_KIND_OBJECT) {
		want = T_MAP;
	} else if (jv_get_kind(t) == JV_KIND_ARRAY) {
		want = T_LIST;
	} else {
		const char *s = jv_string_value(t);
		size_t n = strlen(s);
		want = type_of(s, n && s[n - 1] == '?' ? n - 1 : n);
	}
	int ok;
	jv_kind k = jv_get_kind(v);
	switch (want) {
	case T_STRING: ok = k == JV_KIND_STRING; break;
	case T_BOOLEAN: ok = k == JV_KIND_TRUE || k == JV_KIND_FALSE; break;
	case T_INTEGER: ok = k == JV_KIND_NUMBER && !strcmp(kind_text(v), "integer"); break;
	case T_FLOAT: ok = k == JV_KIND_NUMBER; break;
	case T_MAP: ok = k == JV_KIND_OBJECT; break;
	default: ok = k == JV_KIND_ARRAY; break;
	}
	if (!ok)
		return fail(f, path, "field '%s': expected %s, got %s", path, names[want], kind_text(v));
	if (jv_get_kind(t) == JV_KIND_OBJECT)
		return validate_object(t, v, path, f);
	if (jv_get_kind(t) == JV_KIND_ARRAY) {
		jv item = jv_array_get(jv_copy(t), 0);
		int rc = 0, n = jv_array_length(jv_copy(v));
		for (int i = 0; i < n && !rc; i++) {
			char p[256];
			sub(p, sizeof p, path, NULL, i);
			jv x = jv_array_get(jv_copy(v), i);
			rc = validate(item, x, p, f);
			jv_free(x);
		}
		jv_free(item);
		return rc;
	}
	return 0;
}

static int run(jv schema, jv input, struct found *f)
{
	if (jv_get_kind(input) != JV_KIND_OBJECT)
		return fail(f, "", "expected a JSON object, got %s", jv_kind_name(jv_get_kind(input)));
	validate_object(schema, input, "", f);
	return f->n ? -1 : 0;
}

int flow_schema_validate(jv schema, jv input, char *why, size_t size)
{
	struct found f = { .why = why, .size = size, .errors = jv_invalid() };
	return run(schema, input, &f);
}

jv flow_schema_errors(jv schema, jv input)
{
	char why[600];
	struct found f = { .why = why, .size = sizeof why, .errors = jv_array(), .all = 1 };
	if (flow_schema_check(schema, why, sizeof why) < 0)
		return jv_array_append(f.errors, jv_object_set(jv_object_set(jv_object(),
		                                                             jv_string("field"), jv_null()),
		                                               jv_string("message"), jv_string(why)));
	run(schema, input, &f);
	return f.errors;
}

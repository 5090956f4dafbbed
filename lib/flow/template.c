/* template: filling {{path}} placeholders from a context; see template.h. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "flow/template.h"

static int name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/* Parses the placeholder at S (just after "{{"): sets *PATH and *N to its
 * path and *END past its "}}". 0, or -1 if it is not one. */
static int placeholder(const char *s, const char **path, size_t *n, const char **end)
{
	while (*s == ' ')
		s++;
	const char *p = s;
	for (;;) {
		const char *seg = s;
		while (name_char(*s))
			s++;
		if (s == seg)
			return -1;
		if (*s != '.')
			break;
		s++;
	}
	*path = p;
	*n = (size_t)(s - p);
	while (*s == ' ')
		s++;
	if (s[0] != '}' || s[1] != '}')
		return -1;
	*end = s + 2;
	return 0;
}

/* The value at PATH (N bytes) in CTX (borrowed), or jv_invalid(). */
static jv lookup(jv ctx, const char *path, size_t n)
{
	jv v = jv_copy(ctx);
	const char *s = path, *e = path + n;
	while (s < e && jv_is_valid(v)) {
		const char *dot = memchr(s, '.', (size_t)(e - s));
		size_t k = dot ? (size_t)(dot - s) : (size_t)(e - s);
		if (jv_get_kind(v) == JV_KIND_OBJECT) {
			v = jv_object_get(v, jv_string_sized(s, (int)k));
		} else if (jv_get_kind(v) == JV_KIND_ARRAY && strspn(s, "0123456789") >= k && k < 9) {
			int i = atoi(s);
			if (i < jv_array_length(jv_copy(v)))
				v = jv_array_get(v, i);
			else {
				jv_free(v);
				v = jv_invalid();
			}
		} else {
			jv_free(v);
			v = jv_invalid();
		}
		s += k + 1;
	}
	return v;
}

int flow_fill_check(const char *tmpl)
{
	for (const char *s = tmpl; (s = strstr(s, "{{"));) {
		const char *path, *end;
		size_t n;
		if (placeholder(s + 2, &path, &n, &end) < 0)
			return err_set("template: \"{{\" at byte %d does not open a {{field}}",
			               (int)(s - tmpl) + 1);
		s = end;
	}
	return 0;
}

jv flow_fill(const char *tmpl, jv ctx)
{
	jv out = jv_string("");
	const char *s = tmpl;
	for (;;) {
		const char *open = strstr(s, "{{");
		if (!open) {
			out = jv_string_append_str(out, s);
			return out;
		}
		out = jv_string_append_buf(out, s, (int)(open - s));
		const char *path, *end;
		size_t n;
		if (placeholder(open + 2, &path, &n, &end) < 0) {
			jv_free(out);
			err_set("template: \"{{\" at byte %d does not open a {{field}}",
			        (int)(open - tmpl) + 1);
			return jv_invalid();
		}
		jv v = lookup(ctx, path, n);
		if (!jv_is_valid(v)) {
			jv_free(out);
			jv_free(v);
			err_set("template: the context has no %.*s", (int)n, path);
			return jv_invalid();
		}
		if (jv_get_kind(v) == JV_KIND_STRING) {
			out = jv_string_concat(out, v);
		} else {
			jv t = jv_dump_string(v, 0);
			out = jv_string_concat(out, t);
		}
		s = end;
	}
}

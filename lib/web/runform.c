/* runform: a suspension's form and its answer; see runform.h. */
#include <stdio.h>
#include <string.h>

#include "json/json.h"
#include "web/html.h"
#include "web/route.h"
#include "web/runform.h"

/* The base type of a schema type T ("integer" for "integer?"), or "json". */
static const char *base_type(jv t, char buf[static 16], int *optional)
{
	*optional = 0;
	if (jv_get_kind(t) != JV_KIND_STRING)
		return "json";
	const char *s = jv_string_value(t);
	size_t n = strlen(s);
	if (n && s[n - 1] == '?')
		*optional = 1, n--;
	if (n >= 16)
		return "json";
	memcpy(buf, s, n);
	buf[n] = 0;
	return strcmp(buf, "map") && strcmp(buf, "list") ? buf : "json";
}

jv runform_value(jv type, const char *s)
{
	char buf[16];
	int optional;
	const char *t = base_type(type, buf, &optional);
	if (!strcmp(t, "boolean"))
		return s ? jv_true() : jv_false();
	if (!s)
		return jv_invalid();
	if (!strcmp(t, "string"))
		return optional && !*s ? jv_invalid() : jv_string(s);
	size_t n = strlen(s);
	while (n && strchr(" \t\r\n", s[n - 1]))
		n--;
	while (n && strchr(" \t\r\n", *s))
		s++, n--;
	if (!n)
		return jv_invalid();
	jv v = jv_parse_sized(s, (int)n);
	int number = !strcmp(t, "integer") || !strcmp(t, "float");
	if (jv_is_valid(v) && (!number || jv_get_kind(v) == JV_KIND_NUMBER))
		return v;
	jv_free(v);
	return jv_string_sized(s, (int)n);
}

/* The answer the form of SCHEMA holds: each field by its type. */
jv runform_answer(struct web_req *req, jv schema)
{
	jv in = jv_object();
	if (jv_get_kind(schema) != JV_KIND_OBJECT)
		return in;
	jv_object_foreach(schema, k, t)
	{
		char name[300];
		snprintf(name, sizeof name, "f.%s", jv_string_value(k));
		jv v = runform_value(t, web_form(req, name));
		if (jv_is_valid(v))
			in = jv_object_set(in, jv_copy(k), v);
		else
			jv_free(v);
		jv_free(k);
		jv_free(t);
	}
	return in;
}

/* The field of SCHEMA an error's PATH is about ("o" for "o.name",
 * "tags" for "tags[2]"): the longest key that is PATH or begins it. */
static const char *error_key(jv schema, const char *path, char *buf, size_t size)
{
	size_t best = 0;
	if (!path || jv_get_kind(schema) != JV_KIND_OBJECT)
		return NULL;
	jv_object_foreach(schema, k, t)
	{
		const char *key = jv_string_value(k);
		size_t n = strlen(key);
		if (n > best && !strncmp(path, key, n) &&
		    (!path[n] || path[n] == '.' || path[n] == '[') && n < size) {
			best = n;
			memcpy(buf, key, n + 1);
		}
		jv_free(k);
		jv_free(t);
	}
	return best ? buf : NULL;
}

/* The errors of ERRORS about KEY (NULL: about no field of SCHEMA). */
void runform_errors(struct html *h, jv schema, jv errors, const char *key)
{
	if (jv_get_kind(errors) != JV_KIND_ARRAY)
		return;
	jv_array_foreach(errors, i, e)
	{
		char buf[300];
		const char *k = error_key(schema, json_str(e, "field", NULL), buf, sizeof buf);
		if (key ? k && !strcmp(k, key) : !k) {
			html_puts(h, "<span class=\"error\" role=alert>");
			html_esc(h, json_str_or(e, "message", ""));
			html_puts(h, "</span>");
		}
		jv_free(e);
	}
}

/* One field of the form: KEY of type T, the value VALUES holds (the form as
 * it was sent, or null), its errors. */
void runform_field(struct html *h, const char *form_id, int i, const char *key, jv t, jv values,
                   jv schema, jv errors)
{
	char buf[16], name[300], id[120];
	int optional;
	const char *type = base_type(t, buf, &optional);
	snprintf(name, sizeof name, "f.%s", key);
	snprintf(id, sizeof id, "%s-%d", form_id, i);
	const char *v = json_str(values, name, NULL);
	jv shown = jv_get_kind(t) == JV_KIND_STRING ? jv_copy(t) : jv_dump_string(jv_copy(t), 0);
	html_puts(h, "<div class=field><label for=\"");
	html_esc(h, id);
	html_puts(h, "\">");
	html_esc(h, key);
	html_puts(h, " <span class=type>");
	html_esc(h, jv_string_value(shown));
	html_puts(h, "</span></label> ");
	jv_free(shown);
	if (!strcmp(type, "boolean")) {
		html_printf(h, "<input type=checkbox value=true%s", v ? " checked" : "");
	} else if (!strcmp(type, "json")) {
		html_puts(h, "<textarea rows=3 placeholder=JSON");
	} else {
		html_printf(h, "<input type=%s%s", strcmp(type, "string") ? "number" : "text",
		            !strcmp(type, "integer") ? " step=1"
		            : !strcmp(type, "float") ? " step=any"
		                                     : "");
		if (v) {
			html_puts(h, " value=\"");
			html_esc(h, v);
			html_puts(h, "\"");
		}
	}
	html_puts(h, " id=\"");
	html_esc(h, id);
	html_puts(h, "\" name=\"");
	html_esc(h, name);
	html_puts(h, "\">");
	if (!strcmp(type, "json")) {
		html_esc(h, v ? v : "");
		html_puts(h, "</textarea>");
	}
	runform_errors(h, schema, errors, key);
	html_puts(h, "</div>\n");
}

/* agentform: an agent's form and the object it holds; see agentform.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "web/agentform.h"
#include "web/html.h"
#include "web/route.h"

static const char *const fields[] = { "name",       "status",  "abilities",    "responsibilities",
	                              "llm_config", "prompts", "retry_policy", "concurrency",
	                              NULL };
/* agent-ctl(1)'s default, what a new agent's form shows */
#define RETRY_DEFAULT "{\"type\":\"fixed\",\"max_retries\":3,\"delay_ms\":5000}"
static const char *const json_fields[] = { "llm_config", "prompts", "retry_policy", NULL };
static const char *const statuses[] = { "inactive", "active", "error", "disabled_flapping", NULL };

static int among(const char *s, const char *const list[])
{
	for (int i = 0; list[i]; i++)
		if (!strcmp(s, list[i]))
			return 1;
	return 0;
}

static jv error(jv errors, const char *field, jv msg)
{
	return jv_array_append(
		errors, json_set(json_set(jv_object(), "field", jv_string(field)), "message", msg));
}

/* The lines of S that are not blank, each a string or (starting with '{')
 * a JSON object; a bad line is an error of FIELD. */
static jv lines(const char *s, const char *field, jv *errors)
{
	jv out = jv_array();
	int n = 0;
	while (*s) {
		size_t len = strcspn(s, "\r\n");
		const char *a = s, *b = s + len;
		s = b + strspn(b, "\r\n");
		while (a < b && strchr(" \t", *a))
			a++;
		while (b > a && strchr(" \t", b[-1]))
			b--;
		if (a == b)
			continue;
		n++;
		if (*a != '{') {
			out = jv_array_append(out, jv_string_sized(a, (int)(b - a)));
			continue;
		}
		jv v = jv_parse_sized(a, (int)(b - a));
		if (!jv_is_valid(v)) {
			char why[300];
			json_error_text(v, why, sizeof why);
			*errors = error(*errors, field,
			                jv_string_fmt("%s: line %d: not JSON: %s", field, n, why));
			continue;
		}
		out = jv_array_append(out, v);
	}
	return out;
}

jv agentform_read(struct web_req *req, jv base, jv *errors)
{
	jv in = jv_copy(base);
	*errors = jv_array();
	for (int i = 0; fields[i]; i++) {
		const char *f = fields[i], *s = web_form(req, f);
		if (!s)
			continue;
		if (!strcmp(f, "name") || !strcmp(f, "status")) {
			in = json_set(in, f, jv_string(s));
		} else if (!strcmp(f, "concurrency")) {
			jv v = *s ? jv_parse(s) : jv_null();
			in = json_set(in, f, jv_is_valid(v) ? v : (jv_free(v), jv_string(s)));
		} else if (!strcmp(f, "retry_policy") && !*s) {
			continue; /* as the API's missing field: agent-ctl's default */
		} else if (among(f, json_fields)) {
			jv v = jv_parse(*s ? s : "{}");
			if (jv_is_valid(v)) {
				in = json_set(in, f, v);
			} else {
				char why[300];
				json_error_text(v, why, sizeof why);
				*errors = error(*errors, f,
				                jv_string_fmt("%s: not JSON: %s", f, why));
			}
		} else {
			in = json_set(in, f, lines(s, f, errors));
		}
	}
	return in;
}

/* S without the CRs a browser sends at the ends of a text area's lines
 * (a page shows a control character as U+FFFD). */
jv agentform_text(const char *s)
{
	jv t = jv_string("");
	for (const char *p = s; *p;) {
		size_t n = strcspn(p, "\r");
		t = jv_string_append_buf(t, p, (int)n);
		p += n;
		if (*p)
			p++;
	}
	return t;
}

jv agentform_values(struct web_req *req)
{
	jv v = jv_object();
	for (int i = 0; fields[i]; i++) {
		const char *s = web_form(req, fields[i]);
		if (s)
			v = json_set(v, fields[i], agentform_text(s));
	}
	return v;
}

/* The text a field shows for VALUE (agent's) unless VALUES has it. */
static jv text_of(const char *f, jv agent, jv values)
{
	const char *sent = json_str(values, f, NULL);
	if (sent)
		return jv_string(sent);
	jv v = json_get(agent, f);
	if (!jv_is_valid(v) || jv_get_kind(v) == JV_KIND_NULL) {
		jv_free(v);
		if (!strcmp(f, "retry_policy"))
			return jv_string(RETRY_DEFAULT);
		return jv_string(among(f, json_fields) ? "{}" : "");
	}
	if (jv_get_kind(v) == JV_KIND_STRING)
		return v;
	if (jv_get_kind(v) == JV_KIND_ARRAY && !among(f, json_fields)) {
		jv t = jv_string("");
		jv_array_foreach(v, i, x)
		{
			jv line = jv_get_kind(x) == JV_KIND_STRING ? x : jv_dump_string(x, 0);
			t = jv_string_concat(jv_string_concat(t, line), jv_string("\n"));
		}
		jv_free(v);
		return t;
	}
	return jv_dump_string(v, among(f, json_fields) ? JV_PRINT_INDENT_FLAGS(2) : 0);
}

static void errors_of(struct html *h, jv errors, const char *f)
{
	jv_array_foreach(errors, i, e)
	{
		const char *ef = json_str(e, "field", NULL);
		if (f ? ef && !strcmp(ef, f) : !ef) {
			html_puts(h, "<span class=\"error\" role=alert>");
			html_esc(h, json_str_or(e, "message", ""));
			html_puts(h, "</span>");
		}
		jv_free(e);
	}
}

void agentform_put(struct web_req *req, struct html *h, const char *action, jv agent, jv values,
                   jv errors)
{
	html_puts(h, "<form method=post novalidate class=agent action=\"");
	html_esc(h, action);
	html_puts(h, "\"><input type=hidden name=csrf value=\"");
	html_esc(h, web_csrf(req));
	html_puts(h, "\">\n");
	if (jv_get_kind(errors) == JV_KIND_ARRAY)
		errors_of(h, errors, NULL);
	for (int i = 0; fields[i]; i++) {
		const char *f = fields[i];
		jv t = text_of(f, agent, values);
		html_printf(h, "<div class=field><label for=\"a-%s\">%s</label> ", f, f);
		if (!strcmp(f, "status")) {
			html_printf(h, "<select id=\"a-%s\" name=%s>", f, f);
			for (int k = 0; statuses[k]; k++)
				html_printf(h, "<option%s>%s</option>",
				            !strcmp(statuses[k], jv_string_value(t)) ? " selected"
				                                                     : "",
				            statuses[k]);
			html_puts(h, "</select>");
		} else if (!strcmp(f, "name") || !strcmp(f, "concurrency")) {
			html_printf(h, "<input type=text id=\"a-%s\" name=%s value=\"", f, f);
			html_esc(h, jv_string_value(t));
			html_puts(h, "\"");
			if (!strcmp(f, "concurrency"))
				html_puts(h, " placeholder=\"default\"");
			html_puts(h, ">");
		} else {
			html_printf(h, "<textarea id=\"a-%s\" name=%s rows=%d>", f, f,
			            among(f, json_fields) ? 4 : 3);
			html_esc(h, jv_string_value(t));
			html_puts(h, "</textarea>");
		}
		jv_free(t);
		if (jv_get_kind(errors) == JV_KIND_ARRAY)
			errors_of(h, errors, f);
		html_puts(h, "</div>\n");
	}
	html_puts(h, "<p class=meta>abilities and responsibilities: one a line "
	             "(cron:MIN HOUR DOM MON DOW, every:DURATION, event:TOPIC, watch:/DIR, stdin, "
	             "or a JSON object)</p><button>save</button></form>\n");
}

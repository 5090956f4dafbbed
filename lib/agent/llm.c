/* llm: prompt templates and call options of the built-in llm ability; see
 * llm.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/llm.h"
#include "agent/spec.h"
#include "base/err.h"
#include "json/json.h"
#include "model/platform.h"

/* The value at PATH (N bytes, dot-separated) in V (borrowed). */
static jv lookup(jv v, const char *path, size_t n)
{
	jv cur = jv_copy(v);
	if (n == 1 && path[0] == '.')
		return cur;
	const char *p = path, *end = path + n;
	while (p < end) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		size_t k = dot ? (size_t)(dot - p) : (size_t)(end - p);
		if (jv_get_kind(cur) != JV_KIND_OBJECT || !k) {
			jv_free(cur);
			return jv_invalid();
		}
		jv next = jv_object_get(cur, jv_string_sized(p, (int)k));
		cur = next;
		if (!jv_is_valid(cur))
			return cur;
		p += k + (dot != NULL);
	}
	return cur;
}

char *agent_template(const char *tpl, jv payload)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (!f)
		return err_errno("template"), NULL;
	const char *p = tpl;
	int rc = 0;
	while (*p) {
		const char *open = strstr(p, "{{");
		if (!open) {
			fputs(p, f);
			break;
		}
		fwrite(p, 1, (size_t)(open - p), f);
		const char *close = strstr(open + 2, "}}");
		const char *s = open + 2;
		while (close && s < close && *s == ' ')
			s++;
		const char *e = close;
		while (close && e > s && e[-1] == ' ')
			e--;
		size_t n = close ? (size_t)(e - s) : 0;
		if (!close || !n || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		                               "0123456789_.-") < n) {
			fputs("{{", f); /* not a placeholder: as it is */
			p = open + 2;
			continue;
		}
		jv v = lookup(payload, s, n);
		if (!jv_is_valid(v)) {
			jv_free(v);
			rc = err_set("the template wants {{%.*s}}, which the payload does not have",
			             (int)n, s);
			break;
		}
		if (jv_get_kind(v) == JV_KIND_STRING)
			fwrite(jv_string_value(v), 1, (size_t)jv_string_length_bytes(jv_copy(v)), f);
		else
			json_put(f, v);
		jv_free(v);
		p = close + 2;
	}
	if (fclose(f) != 0 && !rc)
		rc = err_errno("template");
	if (rc < 0) {
		free(out);
		return NULL;
	}
	return out;
}

char *agent_llm_prompt(const struct agent *a, const struct resp *r, jv payload)
{
	const char *tpl = json_str(a->prompts, r->task, NULL);
	if (!tpl)
		tpl = json_str(a->prompts, "default", NULL);
	if (!tpl)
		return err_set("no prompt for task '%s' (prompts.\"%s\" or prompts.default)", r->task,
		               r->task), NULL;
	char *s = agent_template(tpl, payload);
	if (!s)
		err_set("prompts.%s: %s", json_str(a->prompts, r->task, NULL) ? r->task : "default",
		        err_msg());
	return s;
}

void agent_llm_opts(jv llm, struct call_opts *o)
{
	memset(o, 0, sizeof *o);
	o->temperature = -1;
	o->schema = jv_null();
	o->system = json_str(llm, "base_prompt_override", NULL);
	o->base_url = json_str(llm, "base_url", NULL);
	o->key_env = json_str(llm, "api_key_env_var", NULL);
	jv t = json_get(llm, "temperature");
	if (jv_get_kind(t) == JV_KIND_NUMBER)
		o->temperature = jv_number_value(t);
	jv_free(t);
	jv m = json_get(llm, "max_tokens");
	if (jv_get_kind(m) == JV_KIND_NUMBER)
		o->max_tokens = (long)jv_number_value(m);
	jv_free(m);
}

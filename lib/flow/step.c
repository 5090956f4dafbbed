/* step: a step's definition and description; see step.h. */
#include <string.h>

#include "base/err.h"
#include "flow/step.h"
#include "json/json.h"

void flow_step_init(struct flow_step *s)
{
	memset(s, 0, sizeof *s);
	s->kind = FK_PASS;
	s->temperature = -1;
	s->output_schema = s->schema = s->metadata = s->fallback = jv_null();
	s->backoff = 1;
	s->jobs = 1;
}

void flow_step_free(struct flow_step *s)
{
	jv_free(s->output_schema);
	jv_free(s->schema);
	jv_free(s->metadata);
	jv_free(s->fallback);
	s->output_schema = s->schema = s->metadata = s->fallback = jv_null();
}

int flow_step_name_check(const char *name)
{
	size_t n = strlen(name);
	if (!n || n > FLOW_NAME_MAX)
		return err_set("a step name is 1 to %d characters, got %zu", FLOW_NAME_MAX, n);
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
			return err_set("a step name is letters, digits, '_', '-' and '.', got '%s'", name);
	if (name[0] == '-' || name[0] == '.')
		return err_set("a step name starts with a letter, a digit or '_', got '%s'", name);
	return 0;
}

const char *flow_kind_name(int kind)
{
	static const char *const n[] = { "pass", "command", "jq", "llm", "score" };
	return kind >= 0 && kind <= FK_SCORE ? n[kind] : "?";
}

static jv argv_json(char **argv)
{
	jv a = jv_array();
	for (int i = 0; argv && argv[i]; i++)
		a = jv_array_append(a, jv_string(argv[i]));
	return a;
}

static jv str_or_null(const char *s)
{
	return s ? jv_string(s) : jv_invalid();
}

jv flow_step_describe(const struct flow_step *s)
{
	jv d = jv_object();
	d = json_set(d, "step", jv_string(s->name));
	d = json_set(d, "kind", jv_string(flow_kind_name(s->kind)));
	if (s->kind == FK_COMMAND || s->kind == FK_SCORE)
		d = json_set(d, "command", argv_json(s->argv));
	d = json_set(d, "jq", str_or_null(s->jq));
	if (s->kind == FK_LLM) {
		d = json_set(d, "model", jv_string(s->model));
		d = json_set(d, "prompt", jv_string(s->prompt));
		d = json_set(d, "to", jv_string(s->to));
		d = json_set(d, "system", str_or_null(s->system));
		if (s->temperature >= 0)
			d = json_set(d, "temperature", jv_number(s->temperature));
		if (s->max_tokens)
			d = json_set(d, "max_tokens", jv_number((double)s->max_tokens));
		if (s->stream)
			d = json_set(d, "stream", jv_true());
		if (jv_get_kind(s->output_schema) == JV_KIND_OBJECT)
			d = json_set(d, "output_schema", jv_copy(s->output_schema));
		if (s->ntools) {
			jv t = jv_object();
			for (int i = 0; i < s->ntools; i++)
				t = json_set(t, s->tools[i].name, jv_string(s->tools[i].program));
			d = json_set(d, "tools", t);
		}
	}
	if (s->suspend) {
		jv sp = json_set(jv_object(), "message", jv_string(s->suspend));
		sp = json_set(sp, "schema", jv_copy(s->schema));
		if (jv_get_kind(s->metadata) == JV_KIND_OBJECT)
			sp = json_set(sp, "metadata", jv_copy(s->metadata));
		d = json_set(d, "suspend", sp);
	}
	if (s->kind != FK_PASS && s->kind != FK_JQ) {
		d = json_set(d, "retry", jv_number(s->retry));
		d = json_set(d, "backoff", jv_number(s->backoff));
	}
	if (s->timeout > 0)
		d = json_set(d, "timeout", jv_number(s->timeout));
	if (jv_get_kind(s->fallback) == JV_KIND_OBJECT)
		d = json_set(d, "fallback", jv_copy(s->fallback));
	if (s->nscorers) {
		jv sc = jv_object();
		for (int i = 0; i < s->nscorers; i++)
			sc = json_set(sc, s->scorers[i].name, jv_string(s->scorers[i].program));
		d = json_set(d, "scorers", sc);
	}
	if (s->jobs > 1)
		d = json_set(d, "jobs", jv_number(s->jobs));
	return d;
}

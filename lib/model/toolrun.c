/* toolrun: a chat model's tool calls run as programs; see toolrun.h. */
#include <string.h>

#include "base/err.h"
#include "base/timeutil.h"
#include "json/json.h"
#include "model/catalogue.h"
#include "model/toolrun.h"

#define TOOL_ROUNDS 8

void toolrun_init(struct toolrun *t)
{
	memset(t, 0, sizeof *t);
	t->calls = t->answers = jv_invalid();
}

void toolrun_free(struct toolrun *t)
{
	if (t->busy) {
		t->sub.model->platform->cancel(&t->sub);
		call_clear(&t->sub);
	}
	jv_free(t->calls);
	jv_free(t->answers);
	toolrun_init(t);
}

jv toolrun_declaration(const struct tool *t, const char *key)
{
	jv f = json_set(jv_object(), "name", jv_string(t->name));
	f = json_set(f, "description", jv_string_fmt("Runs the tool %s on the arguments", t->name));
	jv params = jv_get_kind(t->params) == JV_KIND_OBJECT
	                    ? jv_copy(t->params)
	                    : json_set(jv_object(), "type", jv_string("object"));
	return json_set(f, key, params);
}

int toolrun_begin(struct toolrun *t, const struct call *c, jv calls)
{
	int limit = c->opts && c->opts->tool_rounds > 0 ? c->opts->tool_rounds : TOOL_ROUNDS;
	jv_free(t->calls);
	jv_free(t->answers);
	t->calls = calls;
	t->answers = jv_array();
	if (++t->rounds > limit)
		return err_set("still calling tools after %d rounds", limit);
	return 0;
}

static const struct tool *find(const struct call *c, const char *name)
{
	for (int i = 0; c->opts && i < c->opts->ntools; i++)
		if (!strcmp(c->opts->tools[i].name, name))
			return &c->opts->tools[i];
	return NULL;
}

/* The finished program's answer. */
static void sub_done(struct toolrun *t)
{
	t->busy = 0;
	jv out = jv_get_kind(t->sub.output) == JV_KIND_STRING
	         ? jv_copy(t->sub.output)
	         : jv_string_fmt("error: %s", json_str_or(t->sub.error, "message", "failed"));
	call_clear(&t->sub);
	t->answers = jv_array_append(t->answers, out);
}

int toolrun_go(struct toolrun *t, const struct call *c)
{
	int i;
	while ((i = jv_array_length(jv_copy(t->answers))) < jv_array_length(jv_copy(t->calls))) {
		jv tc = jv_array_get(jv_copy(t->calls), i);
		const char *name = json_str_or(tc, "name", "");
		const struct tool *tool = find(c, name);
		if (!tool) {
			t->answers = jv_array_append(
				t->answers, jv_string_fmt("error: there is no tool named '%s'", name));
			jv_free(tc);
			continue;
		}
		jv args = json_get(tc, "arguments");
		jv_free(tc);
		if (jv_get_kind(args) != JV_KIND_STRING) {
			jv_free(args);
			args = jv_string("{}");
		}
		jv parsed = json_parse(jv_string_value(args),
		                       (size_t)jv_string_length_bytes(jv_copy(args)));
		if (jv_get_kind(parsed) != JV_KIND_OBJECT) {
			char why[200] = "not an object";
			if (!jv_is_valid(parsed))
				json_error_text(jv_copy(parsed), why, sizeof why);
			t->answers = jv_array_append(
				t->answers, jv_string_fmt("error: the arguments for '%s' are not a JSON"
				                          " object (%s): send one", name, why));
			jv_free(parsed);
			jv_free(args);
			continue;
		}
		jv_free(parsed);
		call_init(&t->sub, tool->model, args);
		t->sub.t0 = time_mono_ms();
		t->sub.started_at = time_now_ms();
		t->busy = 1;
		tool->model->platform->start(&t->sub);
		if (!t->sub.done)
			return 0;
		sub_done(t);
	}
	return 1;
}

int toolrun_fds(struct toolrun *t, struct pollfd *p, int max, int64_t *deadline)
{
	return t->busy ? t->sub.model->platform->fds(&t->sub, p, max, deadline) : 0;
}

int toolrun_step(struct toolrun *t, const struct call *c, struct pollfd *p, int n, int64_t now)
{
	if (!t->busy)
		return 0;
	t->sub.model->platform->step(&t->sub, p, n, now);
	if (!t->sub.done)
		return 0;
	sub_done(t);
	return toolrun_go(t, c);
}

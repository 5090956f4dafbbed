/* export: a run as a Braintrust eval record; see export.h. */
#include <stdio.h>
#include <string.h>

#include "base/timeutil.h"
#include "flow/context.h"
#include "flow/export.h"
#include "json/json.h"

static jv seconds(jv run, const char *field)
{
	const char *s = json_str(run, field, NULL);
	int64_t ms = s ? time_parse_rfc3339(s) : -1;
	return ms < 0 ? jv_invalid() : jv_number((double)ms / 1000.0);
}

static double add(jv o, const char *field, double sum, int *any)
{
	jv v = json_get(o, field);
	if (jv_get_kind(v) == JV_KIND_NUMBER) {
		sum += jv_number_value(v);
		*any = 1;
	}
	jv_free(v);
	return sum;
}

jv flow_export(jv run, jv steps, jv calls, jv scores)
{
	jv e = jv_object();
	const char *id = json_str_or(run, "id", "");
	const char *wf = json_str(run, "workflow", NULL);
	e = json_set(e, "id", jv_string(id));
	e = json_set(e, "span_id", jv_string(id));
	e = json_set(e, "root_span_id", jv_string(id));
	e = json_set(e, "created", json_get(run, "started_at"));
	e = json_set(e, "input", json_get(run, "input"));
	e = json_set(e, "output", flow_context_of(json_get(run, "input"), steps));
	jv err = json_get(run, "error");
	if (jv_get_kind(err) == JV_KIND_OBJECT && !strcmp(json_str_or(run, "status", ""), "failed"))
		e = json_set(e, "error", err);
	else
		jv_free(err);

	jv sc = jv_object();
	jv_array_foreach(scores, i, s)
	{
		const char *name = json_str_or(s, "scorer", "?");
		int twice = 0;
		jv_array_foreach(scores, j, t)
		{
			twice |= j != i && !strcmp(json_str_or(t, "scorer", ""), name);
			jv_free(t);
		}
		jv key = twice ? jv_string_fmt("%s.%s", json_str_or(s, "step", "?"), name)
		               : jv_string(name);
		sc = jv_object_set(sc, key, json_get(s, "score"));
		jv_free(s);
	}
	e = json_set(e, "scores", sc);

	jv m = jv_object();
	int any_in = 0, any_out = 0, any_cost = 0;
	double in = 0, out = 0, cost = 0;
	jv_array_foreach(calls, i, c)
	{
		in = add(c, "input_tokens", in, &any_in);
		out = add(c, "output_tokens", out, &any_out);
		cost = add(c, "cost", cost, &any_cost);
		jv_free(c);
	}
	m = json_set(m, "start", seconds(run, "started_at"));
	jv end = seconds(run, "finished_at");
	m = json_set(m, "end", jv_is_valid(end) ? end : seconds(run, "updated_at"));
	if (any_in)
		m = json_set(m, "prompt_tokens", jv_number(in));
	if (any_out)
		m = json_set(m, "completion_tokens", jv_number(out));
	if (any_in || any_out)
		m = json_set(m, "tokens", jv_number(in + out));
	e = json_set(e, "metrics", m);

	jv span = json_set(jv_object(), "name", jv_string(wf ? wf : "workflow"));
	e = json_set(e, "span_attributes", json_set(span, "type", jv_string("task")));
	e = json_set(e, "tags", jv_array_append(jv_array(), json_get(run, "status")));

	jv md = jv_object();
	md = json_set(md, "workflow", wf ? jv_string(wf) : jv_null());
	md = json_set(md, "workflow_file", json_get(run, "workflow_file"));
	md = json_set(md, "status", json_get(run, "status"));
	md = json_set(md, "steps", jv_copy(steps));
	md = json_set(md, "calls", jv_copy(calls));
	md = json_set(md, "scores", jv_copy(scores));
	md = json_set(md, "cost", any_cost ? jv_number(cost) : jv_null());
	e = json_set(e, "metadata", md);
	return e;
}

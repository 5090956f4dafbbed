/* report: inspect and history of a run; see report.h. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "flow/context.h"
#include "flow/report.h"
#include "json/json.h"

jv flow_inspect(jv run, jv steps)
{
	static const char *const fields[] = { "id", "workflow", "workflow_file", "status" };
	jv r = jv_object();
	for (int i = 0; i < 4; i++)
		r = json_set(r, fields[i], json_get(run, fields[i]));
	const char *waiting = json_str(run, "waiting_step", NULL);
	jv current = waiting ? jv_string(waiting) : jv_null();
	jv list = jv_array(), wait = jv_null();
	jv_array_foreach(steps, i, s)
	{
		const char *name = json_str_or(s, "step", "");
		if (!waiting) {
			jv_free(current);
			current = jv_string(name);
		}
		if (waiting && !strcmp(name, waiting) &&
		    !strcmp(json_str_or(run, "status", ""), "waiting_for_human")) {
			jv w = json_get(s, "waiting");
			jv_free(wait);
			wait = json_set(jv_object(), "step", jv_string(name));
			static const char *const wf[] = { "message", "metadata", "schema" };
			for (int k = 0; k < 3; k++)
				wait = json_set(wait, wf[k], json_get(w, wf[k]));
			jv_free(w);
		}
		jv e = json_set(jv_object(), "step", jv_string(name));
		e = json_set(e, "state", json_get(s, "state"));
		e = json_set(e, "attempts", json_get(s, "attempts"));
		list = jv_array_append(list, e);
		jv_free(s);
	}
	r = json_set(r, "current_step", current);
	r = json_set(r, "context", flow_context_of(json_get(run, "input"), steps));
	r = json_set(r, "waiting", wait);
	r = json_set(r, "error", json_get(run, "error"));
	static const char *const times[] = { "at_step", "started_at", "updated_at", "finished_at" };
	for (int i = 0; i < 4; i++)
		r = json_set(r, times[i], json_get(run, times[i]));
	r = json_set(r, "steps", list);
	return r;
}

struct item {
	const char *at;
	int pos, rank, idx;
	jv v;
};

static int rank_of(const char *ev)
{
	static const char *const order[] = { "started", "resumed", "step_error", "retrying",
		                             "step_completed", "step_skipped", "scorer",
		                             "waiting_for_human", "stopped", "failed", "completed",
		                             NULL };
	for (int i = 0; order[i]; i++)
		if (!strcmp(ev, order[i]))
			return i;
	return 6;
}

static int cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int c = strcmp(x->at, y->at);
	if (c)
		return c;
	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank - y->rank;
	return x->idx - y->idx;
}

/* The seq of step NAME in STEPS, or END. */
static int pos_of(jv steps, const char *name, int end)
{
	int pos = end;
	jv_array_foreach(steps, i, s)
	{
		if (name && !strcmp(json_str_or(s, "step", ""), name)) {
			jv q = json_get(s, "seq");
			pos = jv_get_kind(q) == JV_KIND_NUMBER ? (int)jv_number_value(q) : end;
			jv_free(q);
		}
		jv_free(s);
	}
	return pos;
}

static jv item(const char *event, jv run, const char *step, jv at)
{
	jv e = jv_object();
	e = json_set(e, "at", at);
	e = json_set(e, "event", jv_string(event));
	e = json_set(e, "run_id", json_get(run, "id"));
	e = json_set(e, "step", step ? jv_string(step) : jv_null());
	return e;
}

jv flow_history(jv run, jv steps, jv events)
{
	int n = jv_array_length(jv_copy(steps)) + jv_array_length(jv_copy(events)) + 2, k = 0;
	struct item *v = calloc((size_t)n, sizeof *v);
	if (!v)
		return jv_invalid();
	v[k++] = (struct item){ .pos = -1, .rank = 0,
		                .v = item("started", run, NULL, json_get(run, "started_at")) };
	jv_array_foreach(steps, i, s)
	{
		const char *st = json_str_or(s, "state", "");
		int done = !strcmp(st, "completed"), skipped = !strcmp(st, "skipped");
		if (done || skipped) {
			const char *ev = done ? "step_completed" : "step_skipped";
			jv e = item(ev, run, json_str(s, "step", NULL), json_get(s, "finished_at"));
			e = json_set(e, "attempts", json_get(s, "attempts"));
			e = json_set(e, "result", json_get(s, "result"));
			jv err = json_get(s, "error");
			if (jv_get_kind(err) == JV_KIND_OBJECT)
				e = json_set(json_set(e, "fallback", jv_true()), "error", err);
			else
				jv_free(err);
			v[k++] = (struct item){ .pos = pos_of(steps, json_str(s, "step", NULL), INT_MAX - 1),
				                .rank = rank_of(ev), .v = e };
		}
		jv_free(s);
	}
	jv_array_foreach(events, i, ev)
	{
		const char *name = json_str_or(ev, "event", "?");
		jv e = item(name, run, json_str(ev, "step", NULL), json_get(ev, "at"));
		jv data = json_get(ev, "data");
		if (jv_get_kind(data) == JV_KIND_OBJECT)
			e = flow_merge(e, data);
		else
			jv_free(data);
		int end = !strcmp(name, "failed") || !strcmp(name, "stopped");
		v[k++] = (struct item){ .pos = end ? INT_MAX : pos_of(steps, json_str(ev, "step", NULL),
		                                                      INT_MAX - 1),
			                .rank = rank_of(name), .v = e };
		jv_free(ev);
	}
	if (!strcmp(json_str_or(run, "status", ""), "completed"))
		v[k++] = (struct item){ .pos = INT_MAX, .rank = rank_of("completed"),
			                .v = item("completed", run, NULL, json_get(run, "finished_at")) };
	for (int i = 0; i < k; i++) {
		v[i].at = json_str_or(v[i].v, "at", "");
		v[i].idx = i;
	}
	qsort(v, (size_t)k, sizeof *v, cmp);
	jv out = jv_array();
	for (int i = 0; i < k; i++)
		out = jv_array_append(out, v[i].v);
	free(v);
	return out;
}

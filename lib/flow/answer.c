/* answer: the runs that wait for a human and their answers; see answer.h. */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/timeutil.h"
#include "bus/bus.h"
#include "flow/answer.h"
#include "flow/events.h"
#include "flow/report.h"
#include "flow/schema.h"
#include "json/json.h"
#include "state/db.h"
#include "state/flow.h"

const char *flow_waits_at(jv run, const char *want)
{
	const char *id = json_str_or(run, "id", "?");
	const char *status = json_str_or(run, "status", "");
	const char *step = json_str(run, "waiting_step", NULL);
	if (strcmp(status, "waiting_for_human") || !step)
		return err_set("run %s does not wait for a human: it is %s", id, status), NULL;
	if (want && strcmp(want, step))
		return err_set("run %s waits at step %s, not %s", id, step, want), NULL;
	return step;
}

jv flow_suspension(struct db *db, const char *id, const char *step)
{
	jv rows = db_flow_steps(db, id);
	if (!jv_is_valid(rows))
		return rows;
	jv found = jv_null();
	jv_array_foreach(rows, i, r)
	{
		if (!strcmp(json_str_or(r, "step", ""), step)) {
			jv w = json_get(r, "waiting");
			jv_free(found);
			found = json_set(jv_object(), "step", jv_string(step));
			static const char *const f[] = { "message", "metadata", "schema" };
			for (int k = 0; k < 3; k++)
				found = json_set(found, f[k], json_get(w, f[k]));
			jv_free(w);
		}
		jv_free(r);
	}
	jv_free(rows);
	return found;
}

struct waiting {
	struct db *db;
	int (*fn)(jv w, void *ctx);
	void *ctx;
	int failed;
};

static int one_waiting(jv run, void *ctx)
{
	struct waiting *w = ctx;
	const char *id = json_str_or(run, "id", "");
	const char *step = json_str(run, "waiting_step", NULL);
	jv s = step ? flow_suspension(w->db, id, step) : jv_null();
	if (!jv_is_valid(s)) {
		jv_free(run);
		return w->failed = -1;
	}
	if (jv_get_kind(s) != JV_KIND_OBJECT)
		s = json_set(json_set(jv_object(), "step", step ? jv_string(step) : jv_null()),
		             "message", jv_null());
	jv out = json_set(jv_object(), "id", json_get(run, "id"));
	out = json_set(out, "workflow", json_get(run, "workflow"));
	static const char *const f[] = { "step", "message", "metadata", "schema" };
	for (int k = 0; k < 4; k++)
		out = json_set(out, f[k], json_get(s, f[k]));
	out = json_set(out, "started_at", json_get(run, "started_at"));
	out = json_set(out, "updated_at", json_get(run, "updated_at"));
	jv_free(s);
	jv_free(run);
	return w->fn(out, w->ctx);
}

int flow_waiting(struct db *db, long limit, int (*fn)(jv w, void *ctx), void *ctx)
{
	struct waiting w = { db, fn, ctx, 0 };
	if (db_flow_run_list(db, "waiting_for_human", NULL, limit, one_waiting, &w) < 0)
		return -1;
	return w.failed;
}

jv flow_run_history(struct db *db, const char *id)
{
	jv run = db_flow_run_get(db, id);
	if (jv_get_kind(run) != JV_KIND_OBJECT)
		return run;
	jv steps = db_flow_steps(db, id), events = jv_invalid();
	if (jv_is_valid(steps))
		events = db_flow_events(db, id);
	jv h = jv_is_valid(events) ? flow_history(run, steps, events) : jv_invalid();
	jv_free(events);
	jv_free(steps);
	jv_free(run);
	return h;
}

/* INPUT checked against the schema of the suspension of run ID at STEP. */
static int check(struct db *db, const char *id, const char *step, jv input, jv *errors)
{
	jv s = flow_suspension(db, id, step);
	if (!jv_is_valid(s))
		return -1;
	jv schema = json_get(s, "schema");
	jv_free(s);
	if (jv_get_kind(schema) != JV_KIND_OBJECT) { /* no schema: any object */
		jv_free(schema);
		schema = jv_object();
	}
	jv errs = flow_schema_errors(schema, input);
	jv_free(schema);
	int rc = FLOW_ANSWERED;
	if (jv_array_length(jv_copy(errs))) {
		jv first = jv_array_get(jv_copy(errs), 0);
		err_set("%s", json_str_or(first, "message", "?"));
		jv_free(first);
		rc = FLOW_INVALID;
	}
	if (errors && rc)
		*errors = errs;
	else
		jv_free(errs);
	return rc;
}

/* The checks of flow_answer_check, the step run ID waits at into STEPBUF. */
static int answerable(struct db *db, const char *id, const char *step, jv input, jv *errors,
                      char stepbuf[static 256])
{
	jv run = db_flow_run_get(db, id);
	if (!jv_is_valid(run))
		return -1;
	if (jv_get_kind(run) != JV_KIND_OBJECT) {
		jv_free(run);
		return err_set("unknown run '%s'", id), FLOW_UNKNOWN;
	}
	const char *at_step = flow_waits_at(run, step);
	snprintf(stepbuf, 256, "%s", at_step ? at_step : "");
	jv_free(run);
	if (!at_step)
		return FLOW_REFUSED;
	return check(db, id, stepbuf, input, errors);
}

int flow_answer_check(struct db *db, const char *id, const char *step, jv input, jv *errors)
{
	char stepbuf[256];
	return answerable(db, id, step, input, errors, stepbuf);
}

int flow_answer(struct db *db, struct bus *bus, const char *id, const char *step, jv input,
                jv *errors)
{
	char stepbuf[256];
	int rc = answerable(db, id, step, input, errors, stepbuf);
	if (rc)
		return rc;
	char at[32];
	time_rfc3339(time_now_ms(), at);
	if (db_begin(db) < 0)
		return -1;
	int done = db_flow_resume(db, id, stepbuf, input, at);
	if (done <= 0) {
		db_rollback(db);
		if (done < 0)
			return -1;
		return err_set("the suspension at step %s was already answered", stepbuf),
		       FLOW_REFUSED;
	}
	jv d = flow_event("resumed", id, stepbuf,
	                  json_set(jv_object(), "human_input", jv_copy(input)));
	if (flow_event_store(db, d) < 0) {
		db_rollback(db);
		jv_free(d);
		return -1;
	}
	if (db_commit(db) < 0) {
		jv_free(d);
		return -1;
	}
	flow_event_publish(bus, db, d);
	jv_free(d);
	if (bus)
		bus_flush(bus);
	return FLOW_ANSWERED;
}

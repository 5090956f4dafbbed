/* admin: reading and changing the agents table; see admin.h. */
#include <stdio.h>
#include <string.h>

#include "agent/admin.h"
#include "agent/run.h"
#include "agent/world.h"
#include "base/err.h"
#include "json/json.h"
#include "state/agents.h"
#include "state/db.h"

jv agent_get(struct db *db, const char *name)
{
	jv row = db_agent_get(db, name, 0);
	if (jv_get_kind(row) == JV_KIND_NULL)
		err_set("no agent '%s'", name);
	if (jv_get_kind(row) != JV_KIND_OBJECT)
		return row;
	jv o = agent_row_object(row);
	jv_free(row);
	return o;
}

struct each {
	int (*fn)(jv agent, void *ctx);
	void *ctx;
};

static int one(jv row, void *ctx)
{
	struct each *e = ctx;
	jv o = agent_row_object(row);
	jv_free(row);
	return e->fn(o, e->ctx);
}

int agent_list(struct db *db, int (*fn)(jv agent, void *ctx), void *ctx)
{
	struct each e = { fn, ctx };
	return db_agent_list(db, NULL, one, &e);
}

/* ERRORS gets the one error FIELD. */
static void one_error(jv *errors, const char *field)
{
	if (errors)
		*errors = jv_array_append(jv_array(),
		                          json_set(json_set(jv_object(), "field",
		                                            field ? jv_string(field) : jv_null()),
		                                   "message", jv_string(err_msg())));
}

jv agent_save(struct db *db, struct bus *bus, const struct agent_lookup *lk, jv in, int create,
              jv *errors)
{
	struct agent a;
	if (agent_check(in, lk, &a) < 0) {
		agent_free(&a);
		if (errors) {
			char first[1200];
			snprintf(first, sizeof first, "%s", err_msg());
			*errors = agent_errors(in, lk);
			err_set("%s", first);
		}
		return jv_invalid();
	}
	jv cols = agent_columns(&a);
	int rc = create ? db_agent_insert(db, cols) : db_agent_update(db, cols);
	jv_free(cols);
	if (rc < 0) {
		agent_free(&a);
		one_error(errors, create ? "name" : NULL);
		return jv_invalid();
	}
	int by_id = !(create && !*a.id);
	jv row = db_agent_get(db, by_id ? a.id : a.name, by_id);
	agent_free(&a);
	if (jv_get_kind(row) != JV_KIND_OBJECT) {
		jv_free(row);
		err_set("the stored agent is gone");
		one_error(errors, NULL);
		return jv_invalid();
	}
	jv o = agent_row_object(row);
	jv_free(row);
	if (bus)
		agent_publish_changed(bus, db, create ? "created" : "updated", o);
	return o;
}

jv agent_with_status(jv in, const char *status)
{
	jv o = jv_object_delete(jv_copy(in), jv_string("updated_at"));
	return json_set(o, "status", jv_string(status));
}

jv agent_status(struct db *db, jv row)
{
	const char *id = json_str_or(row, "id", "");
	const char *st = json_str_or(row, "status", "");
	jv out = jv_object();
	out = json_set(out, "name", json_get(row, "name"));
	out = json_set(out, "status", json_get(row, "status"));
	char lock[80];
	jv note = db_lock_peek(db, agent_lock_name(id, lock));
	if (jv_get_kind(note) == JV_KIND_OBJECT) {
		out = json_set(out, "state", json_get(note, "state"));
		out = json_set(out, "pid", json_get(note, "pid"));
		out = json_set(out, "runner", json_get(note, "mode"));
		out = json_set(out, "next_fire", json_get(note, "next_fire"));
		out = json_set(out, "running", json_get(note, "running"));
		out = json_set(out, "queued", json_get(note, "queued"));
	} else {
		out = json_set(out, "state",
		               jv_string(!strcmp(st, "disabled_flapping") ? "flapping"
		                         : !strcmp(st, "error")           ? "error"
		                                                          : "stopped"));
		static const char *const none[] = { "pid", "runner", "next_fire" };
		for (int i = 0; i < 3; i++)
			out = json_set(out, none[i], jv_null());
		out = json_set(out, "running", jv_number(0));
		out = json_set(out, "queued", jv_number(0));
	}
	jv_free(note);
	jv last = db_agent_events(db, id, "completed failed", 1);
	jv ev = jv_get_kind(last) == JV_KIND_ARRAY && jv_array_length(jv_copy(last))
	                ? jv_array_get(jv_copy(last), 0)
	                : jv_null();
	out = json_set(out, "last_run",
	               jv_get_kind(ev) == JV_KIND_OBJECT ? json_get(ev, "at") : jv_null());
	out = json_set(out, "last_result",
	               jv_get_kind(ev) == JV_KIND_OBJECT ? json_get(ev, "event") : jv_null());
	out = json_set(out, "last_error", json_get(row, "last_error"));
	jv_free(ev);
	jv_free(last);
	return out;
}

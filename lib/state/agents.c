/* agents: the agents table and agent_events; see agents.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/id.h"
#include "base/timeutil.h"
#include "json/json.h"
#include "state/agents.h"
#include "state/db.h"
#include "state/sqlite.h"

#define AGENT_COLS                                                                     \
	"id, name, status, llm_config, prompts, abilities, responsibilities, retry_policy," \
	" concurrency, last_error, inserted_at, updated_at, rev"

/* AGENT (borrowed) with :now, and id and times where absent. */
static jv with_defaults(jv agent, int create)
{
	char now[32], id[ID_LEN + 1];
	int64_t t = time_now_ms();
	jv a = json_set(jv_copy(agent), "now", jv_string(time_rfc3339(t, now)));
	if (create && !json_str(a, "id", NULL))
		a = json_set(a, "id", jv_string(id_new_at(t, id)));
	return a;
}

int db_agent_insert(struct db *db, jv agent)
{
	jv a = with_defaults(agent, 1);
	int rc = dbi_run(db, "INSERT INTO agents (id, name, status, llm_config, prompts, abilities,"
	                     " responsibilities, retry_policy, concurrency, last_error, inserted_at,"
	                     " updated_at)"
	                     " VALUES (:id, :name, coalesce(:status, 'inactive'),"
	                     " coalesce(:llm_config, '{}'), coalesce(:prompts, '{}'),"
	                     " coalesce(:abilities, '[]'), coalesce(:responsibilities, '[]'),"
	                     " coalesce(:retry_policy,"
	                     " '{\"type\":\"fixed\",\"max_retries\":3,\"delay_ms\":5000}'),"
	                     " :concurrency, :last_error, coalesce(:inserted_at, :now),"
	                     " coalesce(:updated_at, :now))", a, "agents");
	if (rc < 0 && sqlite3_errcode(db->h) == SQLITE_CONSTRAINT) {
		const char *msg = sqlite3_errmsg(db->h);
		rc = strstr(msg, "agents.id") ? err_set("an agent with id '%s' already exists",
		                                        json_str(a, "id", NULL))
		                              : err_set("agent '%s' already exists",
		                                        json_str(a, "name", NULL));
	}
	jv_free(a);
	return rc;
}

int db_agent_update(struct db *db, jv agent)
{
	jv a = with_defaults(agent, 0);
	int rc = dbi_run(db, "UPDATE agents SET name = :name, status = :status,"
	                     " llm_config = :llm_config, prompts = :prompts, abilities = :abilities,"
	                     " responsibilities = :responsibilities, retry_policy = :retry_policy,"
	                     " concurrency = :concurrency, last_error = :last_error,"
	                     " inserted_at = coalesce(:inserted_at, inserted_at),"
	                     " updated_at = coalesce(:updated_at, :now) WHERE id = :id", a, "agents");
	if (rc < 0 && sqlite3_errcode(db->h) == SQLITE_CONSTRAINT)
		rc = err_set("agent '%s' already exists", json_str(a, "name", NULL));
	else if (rc == 0 && sqlite3_changes(db->h) == 0)
		rc = err_set("no agent with id '%s'", json_str(a, "id", NULL));
	jv_free(a);
	return rc;
}

int db_agent_delete(struct db *db, const char *name)
{
	jv q = json_set(jv_object(), "name", jv_string(name));
	int rc = dbi_run(db, "DELETE FROM agents WHERE name = :name", q, "agents");
	jv_free(q);
	if (rc == 0 && sqlite3_changes(db->h) == 0)
		return err_set("no agent '%s'", name);
	return rc;
}

jv db_agent_get(struct db *db, const char *key, int by_id)
{
	jv q = json_set(jv_object(), "k", jv_string(key));
	jv r = by_id ? dbi_row(db, "SELECT " AGENT_COLS " FROM agents WHERE id = :k", q, "")
	             : dbi_row(db, "SELECT " AGENT_COLS " FROM agents WHERE name = :k", q, "");
	jv_free(q);
	return r;
}

int db_agent_list(struct db *db, const char *status, int (*fn)(jv row, void *ctx), void *ctx)
{
	jv q = json_set(jv_object(), "status", status ? jv_string(status) : jv_null());
	jv all = dbi_rows(db, "SELECT " AGENT_COLS " FROM agents WHERE :status IS NULL"
	                  " OR status = :status ORDER BY name", q, "");
	jv_free(q);
	if (!jv_is_valid(all))
		return -1;
	int n = jv_array_length(jv_copy(all));
	for (int i = 0; i < n && !fn(jv_array_get(jv_copy(all), i), ctx); i++)
		;
	jv_free(all);
	return 0;
}

jv db_agent_revs(struct db *db)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db->h, "SELECT id, rev, status FROM agents", -1, &st, NULL) !=
	    SQLITE_OK)
		return dbi_fail(db, "agents"), jv_invalid();
	jv out = jv_object();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		jv v = jv_array_append(jv_array_append(jv_array(), dbi_column(st, 1)),
		                       dbi_column(st, 2));
		out = jv_object_set(out, dbi_column(st, 0), v);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		jv_free(out);
		return dbi_fail(db, "agents"), jv_invalid();
	}
	return out;
}

int db_agent_set_state(struct db *db, const char *id, const char *status,
                       const char *last_error)
{
	static const char sql[] =
		"UPDATE agents SET status = coalesce(:status, status), last_error = :last_error"
		" WHERE id = :id AND (status IS NOT coalesce(:status, status)"
		" OR last_error IS NOT :last_error)";
	jv q = json_set(json_set(json_set(jv_object(), "id", jv_string(id)), "status",
	                         status ? jv_string(status) : jv_null()),
	                "last_error", last_error ? jv_string(last_error) : jv_null());
	int rc = dbi_run(db, sql, q, "agents");
	jv_free(q);
	return rc < 0 ? -1 : sqlite3_changes(db->h) > 0;
}

/* ---- agent_events ---- */

/* The largest payload or result kept whole in an event row. */
#define EVENT_VALUE_MAX (64 * 1024)

int db_agent_event(struct db *db, jv ev)
{
	static const char sql[] =
		"INSERT INTO agent_events (id, agent_id, agent, at, event, responsibility, ability,"
		" scheduled_at, attempts, duration_ms, payload, result, error, detail) VALUES (:id,"
		" :agent_id, :agent, :at, :event, :responsibility, :ability, :scheduled_at,"
		" :attempts, :duration_ms, :payload, :result, :error, :detail)";
	char now[32], id[ID_LEN + 1];
	int64_t t = time_now_ms();
	jv e = json_set(jv_copy(ev), "id", jv_string(id_new_at(t, id)));
	if (!json_str(e, "at", NULL))
		e = json_set(e, "at", jv_string(time_rfc3339(t, now)));
	static const char *const values[] = { "payload", "result", "error", "detail" };
	for (int i = 0; i < 4; i++) {
		jv v = json_get(e, values[i]);
		if (jv_is_valid(v) && jv_get_kind(v) != JV_KIND_NULL) {
			size_t n;
			char *text = json_dump(v, &n);
			jv s = !text ? jv_null()
			       : n > EVENT_VALUE_MAX
			               ? jv_dump_string(json_set(json_set(jv_object(), "truncated",
			                                                  jv_true()),
			                                         "bytes", jv_number((double)n)),
			                                0)
			               : jv_string_sized(text, (int)n);
			free(text);
			e = json_set(e, values[i], s);
		}
		jv_free(v);
	}
	int rc = dbi_run(db, sql, e, "agent_events");
	jv_free(e);
	return rc;
}

jv db_agent_events(struct db *db, const char *id, const char *events, long limit)
{
	jv q = jv_object();
	q = json_set(q, "id", id ? jv_string(id) : jv_null());
	q = json_set(q, "events", events ? jv_string(events) : jv_null());
	q = json_set(q, "limit", jv_number(limit > 0 ? (double)limit : -1));
	jv r = dbi_rows(db, "SELECT * FROM (SELECT id, agent_id, agent, at, event,"
	                " responsibility, ability, scheduled_at, attempts, duration_ms, payload,"
	                " result, error, detail FROM agent_events WHERE (:id IS NULL OR agent_id = :id)"
	                " AND (:events IS NULL OR instr(' ' || :events || ' ', ' ' || event || ' '))"
	                " ORDER BY at DESC, id DESC LIMIT :limit) ORDER BY at, id", q,
	                "payload result error detail");
	jv_free(q);
	return r;
}

char *db_agent_last_fire(struct db *db, const char *id, const char *resp)
{
	jv q = json_set(json_set(jv_object(), "id", jv_string(id)), "r", jv_string(resp));
	jv r = dbi_row(db, "SELECT max(scheduled_at) AS s FROM agent_events WHERE agent_id = :id"
	               " AND responsibility = :r AND scheduled_at IS NOT NULL", q, "");
	jv_free(q);
	const char *s = jv_get_kind(r) == JV_KIND_OBJECT ? json_str(r, "s", NULL) : NULL;
	char *out = s ? strdup(s) : NULL;
	jv_free(r);
	return out;
}

long db_agent_prune(struct db *db, const char *before)
{
	jv q = json_set(jv_object(), "before", jv_string(before));
	int rc = dbi_run(db, "DELETE FROM agent_events WHERE at < :before", q, "agent_events");
	jv_free(q);
	return rc < 0 ? -1 : (long)sqlite3_changes(db->h);
}

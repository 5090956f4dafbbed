/* flowruns: workflow runs and their journal, as a stage and syn-run write
 * them; see flow.h. */
#include "json/json.h"
#include "state/db.h"
#include "state/flow.h"
#include "state/sqlite.h"

/* The first row of the cached statement SQL with OBJ bound, as an object
 * (JSONCOLS parsed), jv_null() if none, jv_invalid() on error. */
static jv cached_row(struct db *db, const char *sql, jv obj, const char *jsoncols)
{
	sqlite3_stmt *st = dbi_cached(db, sql);
	if (!st)
		return dbi_fail(db, "workflows"), jv_invalid();
	dbi_bind(st, obj);
	int rc = sqlite3_step(st);
	jv r = rc == SQLITE_ROW ? dbi_row_object(st, jsoncols)
	       : rc == SQLITE_DONE ? jv_null() : (dbi_fail(db, "workflows"), jv_invalid());
	sqlite3_reset(st);
	return r;
}

int db_flow_run_insert(struct db *db, jv run)
{
	static const char sql[] =
		"INSERT INTO workflow_runs (id, workflow, workflow_file, run_key, status, input,"
		" at_step, started_at, updated_at) VALUES (:id, :workflow, :workflow_file, :run_key,"
		" :status, :input, :at_step, :started_at, :updated_at)";
	return dbi_run(db, sql, run, "workflow runs");
}

static const char run_cols[] =
	"id, workflow, workflow_file, run_key, status, input, at_step, waiting_step, error,"
	" started_at, updated_at, finished_at";

jv db_flow_run_get(struct db *db, const char *id)
{
	static const char sql[] =
		"SELECT id, workflow, workflow_file, run_key, status, input, at_step, waiting_step,"
		" error, started_at, updated_at, finished_at FROM workflow_runs WHERE id = :id";
	(void)run_cols;
	jv q = json_set(jv_object(), "id", jv_string(id));
	jv r = cached_row(db, sql, q, "input error");
	jv_free(q);
	return r;
}

jv db_flow_run_by_key(struct db *db, const char *key)
{
	static const char sql[] = "SELECT id FROM workflow_runs WHERE run_key = :key";
	jv q = json_set(jv_object(), "key", jv_string(key));
	jv r = cached_row(db, sql, q, "");
	jv_free(q);
	if (jv_get_kind(r) != JV_KIND_OBJECT)
		return r;
	jv id = json_get(r, "id");
	jv_free(r);
	return id;
}

int db_flow_run_set(struct db *db, jv c)
{
	static const char sql[] =
		"UPDATE workflow_runs SET status = :status, waiting_step = :waiting_step,"
		" error = :error, finished_at = :finished_at, updated_at = :updated_at"
		" WHERE id = :id AND (:only_if IS NULL OR status = :only_if"
		" OR (:only_if = 'live' AND status IN ('running', 'waiting_for_human')))";
	if (dbi_run(db, sql, c, "workflow runs") < 0)
		return -1;
	return sqlite3_changes(db->h);
}

jv db_flow_view(struct db *db, const char *id, const char *step)
{
	static const char sql[] =
		"SELECT r.id, r.workflow, r.workflow_file, r.status, r.at_step, r.waiting_step,"
		" r.error AS run_error, r.at_step IS NOT NULL AND NOT EXISTS (SELECT 1 FROM workflow_steps a"
		"  WHERE a.run_id = r.id AND a.step = r.at_step) AS skipping,"
		" (SELECT count(*) FROM workflow_steps c WHERE c.run_id = r.id) AS nsteps,"
		" s.state, s.seq, s.attempts, s.result, s.human_input, s.started_at"
		" FROM workflow_runs r LEFT JOIN workflow_steps s ON s.run_id = r.id AND s.step = :step"
		" WHERE r.id = :id";
	jv q = json_set(json_set(jv_object(), "id", jv_string(id)), "step", jv_string(step));
	jv r = cached_row(db, sql, q, "result human_input run_error");
	jv_free(q);
	return r;
}

int db_flow_step_put(struct db *db, jv row)
{
	static const char sql[] =
		"INSERT INTO workflow_steps (run_id, step, seq, state, attempts, result, error,"
		" waiting, human_input, started_at, finished_at) VALUES (:run_id, :step, :seq,"
		" :state, :attempts, :result, :error, :waiting, :human_input, :started_at,"
		" :finished_at) ON CONFLICT (run_id, step) DO UPDATE SET state = excluded.state,"
		" attempts = excluded.attempts, result = excluded.result, error = excluded.error,"
		" waiting = coalesce(excluded.waiting, waiting),"
		" human_input = coalesce(excluded.human_input, human_input),"
		" started_at = coalesce(started_at, excluded.started_at),"
		" finished_at = excluded.finished_at";
	return dbi_run(db, sql, row, "workflow journal");
}

int db_flow_resume(struct db *db, const char *id, const char *step, jv input, const char *at)
{
	static const char step_sql[] =
		"UPDATE workflow_steps SET state = 'resumed', human_input = :input, resumed_at = :at"
		" WHERE run_id = :id AND step = :step AND state = 'suspended'";
	static const char run_sql[] =
		"UPDATE workflow_runs SET status = 'running', waiting_step = NULL, updated_at = :at"
		" WHERE id = :id AND status = 'waiting_for_human' AND waiting_step = :step";
	jv q = jv_object();
	q = json_set(q, "id", jv_string(id));
	q = json_set(q, "step", jv_string(step));
	q = json_set(q, "input", jv_copy(input));
	q = json_set(q, "at", jv_string(at));
	int rc = dbi_run(db, step_sql, q, "workflow journal");
	int changed = rc < 0 ? -1 : sqlite3_changes(db->h);
	if (changed == 1 && dbi_run(db, run_sql, q, "workflow runs") < 0)
		changed = -1;
	else if (changed == 1 && sqlite3_changes(db->h) != 1)
		changed = 0;
	jv_free(q);
	return changed;
}

int db_flow_event_add(struct db *db, jv ev)
{
	static const char sql[] = "INSERT INTO workflow_events (run_id, at, event, step, data)"
	                          " VALUES (:run_id, :at, :event, :step, :data)";
	return dbi_run(db, sql, ev, "workflow events");
}

int db_flow_score_put(struct db *db, jv sc)
{
	static const char sql[] =
		"INSERT OR REPLACE INTO workflow_scores (run_id, step, scorer, score, result, error, at)"
		" VALUES (?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st = dbi_cached(db, sql);
	if (!st)
		return dbi_fail(db, "workflow scores");
	static const char *const cols[] = { "run_id", "step", "scorer", "score", "result",
		                            "error", "at" };
	for (int i = 0; i < 7; i++) {
		jv v = json_get(sc, cols[i]);
		switch (jv_get_kind(v)) {
		case JV_KIND_STRING:
			sqlite3_bind_text(st, i + 1, jv_string_value(v), -1, SQLITE_TRANSIENT);
			break;
		case JV_KIND_NUMBER:
			sqlite3_bind_double(st, i + 1, jv_number_value(v));
			break;
		case JV_KIND_OBJECT:
		case JV_KIND_ARRAY: {
			jv t = jv_dump_string(jv_copy(v), 0);
			sqlite3_bind_text(st, i + 1, jv_string_value(t), -1, SQLITE_TRANSIENT);
			jv_free(t);
			break;
		}
		default:
			break;
		}
		jv_free(v);
	}
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : dbi_fail(db, "workflow scores");
}

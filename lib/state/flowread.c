/* flowread: reading workflow runs for syn-run (inspect, history, ls,
 * export); see flow.h. */
#include "json/json.h"
#include "state/db.h"
#include "state/flow.h"
#include "state/sqlite.h"

static jv rows(struct db *db, const char *sql, const char *id, const char *jsoncols)
{
	jv q = json_set(jv_object(), "id", jv_string(id));
	jv r = dbi_rows(db, sql, q, jsoncols);
	jv_free(q);
	return r;
}

jv db_flow_steps(struct db *db, const char *id)
{
	return rows(db,
	            "SELECT step, seq, state, attempts, result, error, waiting, human_input,"
	            " started_at, finished_at, resumed_at FROM workflow_steps WHERE run_id = :id"
	            " ORDER BY seq",
	            id, "result error waiting human_input");
}

jv db_flow_events(struct db *db, const char *id)
{
	return rows(db,
	            "SELECT at, event, step, data FROM workflow_events WHERE run_id = :id"
	            " ORDER BY at, rowid",
	            id, "data");
}

jv db_flow_scores(struct db *db, const char *id)
{
	return rows(db,
	            "SELECT step, scorer, score, result, error, at FROM workflow_scores"
	            " WHERE run_id = :id ORDER BY at, step, scorer",
	            id, "result error");
}

jv db_flow_calls(struct db *db, const char *id)
{
	return rows(db,
	            "SELECT id, model, platform, step, prompt, response, state, error_kind,"
	            " error_message, input_tokens, output_tokens, usage, cost, duration_ms,"
	            " started_at, finished_at FROM calls WHERE run_id = :id"
	            " ORDER BY started_at, id",
	            id, "usage");
}

int db_flow_run_list(struct db *db, const char *status, const char *workflow, long limit,
                     int (*fn)(jv run, void *ctx), void *ctx)
{
	static const char sql[] =
		"SELECT * FROM (SELECT r.id, r.workflow, r.workflow_file, r.status, r.at_step,"
		" r.waiting_step, r.error, r.started_at, r.updated_at, r.finished_at,"
		" (SELECT step FROM workflow_steps s WHERE s.run_id = r.id ORDER BY seq DESC LIMIT 1)"
		" AS last_step FROM workflow_runs r"
		" WHERE (:status IS NULL OR r.status = :status)"
		" AND (:workflow IS NULL OR r.workflow = :workflow OR r.workflow_file = :workflow)"
		" ORDER BY r.started_at DESC, r.id DESC LIMIT :limit)"
		" ORDER BY started_at, id";
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
		return dbi_fail(db, "workflow runs");
	jv q = jv_object();
	if (status)
		q = json_set(q, "status", jv_string(status));
	if (workflow)
		q = json_set(q, "workflow", jv_string(workflow));
	q = json_set(q, "limit", jv_number(limit > 0 ? (double)limit : -1));
	dbi_bind(st, q);
	jv_free(q);
	int rc, stop = 0;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW)
		stop = fn(dbi_row_object(st, "error"), ctx) != 0;
	return dbi_rows_done(db, st, rc, stop, "workflow runs");
}

jv db_flow_file_get(struct db *db, const char *path, int64_t mtime_ns, int64_t size,
                    int64_t ino)
{
	jv q = json_set(jv_object(), "path", jv_string(path));
	q = json_set(q, "m", jv_number((double)mtime_ns));
	q = json_set(q, "s", jv_number((double)size));
	q = json_set(q, "i", jv_number((double)ino));
	jv r = dbi_row(db, "SELECT steps FROM workflow_files WHERE path = :path AND mtime_ns = :m"
	                   " AND size = :s AND ino = :i", q, "steps");
	jv_free(q);
	if (jv_get_kind(r) != JV_KIND_OBJECT)
		return r;
	jv steps = json_get(r, "steps");
	jv_free(r);
	return jv_get_kind(steps) == JV_KIND_ARRAY ? steps : (jv_free(steps), jv_null());
}

int db_flow_file_put(struct db *db, const char *path, int64_t mtime_ns, int64_t size,
                     int64_t ino, jv steps, const char *at)
{
	jv q = json_set(jv_object(), "path", jv_string(path));
	q = json_set(q, "m", jv_number((double)mtime_ns));
	q = json_set(q, "s", jv_number((double)size));
	q = json_set(q, "i", jv_number((double)ino));
	q = json_set(q, "steps", jv_copy(steps));
	q = json_set(q, "at", jv_string(at));
	int rc = dbi_run(db, "INSERT OR REPLACE INTO workflow_files (path, mtime_ns, size, ino,"
	                     " steps, described_at) VALUES (:path, :m, :s, :i, :steps, :at)",
	                 q, "workflow files");
	jv_free(q);
	return rc;
}

/* flowruns: workflow runs and their journal, as a stage and syn-run write
 * them; see flow.h. The statements a stage runs once per record bind
 * their values by position and read columns directly: no objects on the
 * way. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json/json.h"
#include "state/db.h"
#include "state/flow.h"
#include "state/sqlite.h"

static void text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Runs the cached statement ST (bound); 0 or -1. */
static int done(struct db *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : dbi_fail(db, what);
}

int db_flow_run_insert(struct db *db, const struct db_flow_run *r)
{
	static const char sql[] =
		"INSERT INTO workflow_runs (id, workflow, workflow_file, run_key, status, input,"
		" at_step, started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st = dbi_cached(db, sql);
	if (!st)
		return dbi_fail(db, "workflow runs");
	const char *v[] = { r->id, r->workflow, r->workflow_file, NULL, r->status,
		            r->input, r->at_step, r->started_at, r->updated_at };
	for (int i = 0; i < 9; i++)
		text(st, i + 1, v[i]);
	if (r->run_key)
		sqlite3_bind_int64(st, 4, r->run_key);
	return done(db, st, "workflow runs");
}

jv db_flow_run_get(struct db *db, const char *id)
{
	static const char sql[] =
		"SELECT id, workflow, workflow_file, run_key, status, input, at_step, waiting_step,"
		" error, started_at, updated_at, finished_at FROM workflow_runs WHERE id = :id";
	jv q = json_set(jv_object(), "id", jv_string(id));
	jv r = dbi_row(db, sql, q, "input error");
	jv_free(q);
	return r;
}

int db_flow_run_by_key(struct db *db, int64_t key, char id[static 37])
{
	static const char sql[] = "SELECT id FROM workflow_runs WHERE run_key = ?";
	sqlite3_stmt *st = dbi_cached(db, sql);
	if (!st)
		return dbi_fail(db, "workflow runs");
	sqlite3_bind_int64(st, 1, key);
	int rc = sqlite3_step(st), found = 0;
	if (rc == SQLITE_ROW) {
		const char *s = (const char *)sqlite3_column_text(st, 0);
		found = s && strlen(s) <= 36;
		if (found)
			strcpy(id, s);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return dbi_fail(db, "workflow runs");
	return found;
}

int db_flow_run_set(struct db *db, const struct db_flow_set *c)
{
	static const char sql[] =
		"UPDATE workflow_runs SET status = ?1, waiting_step = ?2, error = ?3,"
		" finished_at = ?4, updated_at = ?5 WHERE id = ?6 AND (?7 IS NULL OR status = ?7"
		" OR (?7 = 'live' AND status IN ('running', 'waiting_for_human')))";
	sqlite3_stmt *st = dbi_cached(db, sql);
	if (!st)
		return dbi_fail(db, "workflow runs");
	const char *v[] = { c->status, c->waiting_step, c->error, c->finished_at, c->updated_at,
		            c->id, c->only_if };
	for (int i = 0; i < 7; i++)
		text(st, i + 1, v[i]);
	if (done(db, st, "workflow runs") < 0)
		return -1;
	return sqlite3_changes(db->h);
}

static char *dup_col(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	return s ? strdup(s) : NULL;
}

static void copy_col(sqlite3_stmt *st, int i, char *buf, size_t size)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	buf[0] = 0;
	if (s && strlen(s) < size)
		strcpy(buf, s);
}

int db_flow_view(struct db *db, const char *id, const char *step, struct db_flow_view *v)
{
	static const char sql[] =
		"SELECT r.status, r.workflow_file, r.at_step, r.waiting_step, r.error,"
		" s.state, s.attempts, s.result, s.human_input"
		" FROM workflow_runs r LEFT JOIN workflow_steps s ON s.run_id = r.id AND s.step = ?2"
		" WHERE r.id = ?1";
	static const char at_sql[] =
		"SELECT 1 FROM workflow_steps WHERE run_id = ? AND step = ?";
	memset(v, 0, sizeof *v);
	sqlite3_stmt *st = dbi_cached(db, sql);
	if (!st)
		return dbi_fail(db, "workflow runs");
	text(st, 1, id);
	text(st, 2, step);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_col(st, 0, v->status, sizeof v->status);
		v->workflow_file = dup_col(st, 1);
		v->at_step = dup_col(st, 2);
		v->waiting_step = dup_col(st, 3);
		v->run_error = dup_col(st, 4);
		copy_col(st, 5, v->state, sizeof v->state);
		v->attempts = sqlite3_column_int(st, 6);
		v->result = dup_col(st, 7);
		v->human_input = dup_col(st, 8);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return dbi_fail(db, "workflow runs");
	if (rc == SQLITE_DONE)
		return 0;
	if (v->at_step) {
		sqlite3_stmt *a = dbi_cached(db, at_sql);
		if (!a)
			return dbi_fail(db, "workflow journal");
		text(a, 1, id);
		text(a, 2, v->at_step);
		rc = sqlite3_step(a);
		sqlite3_reset(a);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return dbi_fail(db, "workflow journal");
		v->skipping = rc == SQLITE_DONE;
	}
	return 1;
}

void db_flow_view_free(struct db_flow_view *v)
{
	free(v->workflow_file);
	free(v->at_step);
	free(v->waiting_step);
	free(v->run_error);
	free(v->result);
	free(v->human_input);
	memset(v, 0, sizeof *v);
}

int db_flow_step_put(struct db *db, const struct db_flow_step *r)
{
	static const char sql[] =
		"INSERT INTO workflow_steps (run_id, step, seq, state, attempts, result, error,"
		" waiting, human_input, started_at, finished_at) VALUES (?1, ?2,"
		" (SELECT count(*) FROM workflow_steps WHERE run_id = ?1), ?3, ?4, ?5, ?6, ?7, ?8,"
		" ?9, ?10) ON CONFLICT (run_id, step) DO UPDATE SET state = excluded.state,"
		" attempts = excluded.attempts, result = excluded.result, error = excluded.error,"
		" waiting = coalesce(excluded.waiting, waiting),"
		" human_input = coalesce(excluded.human_input, human_input),"
		" started_at = coalesce(started_at, excluded.started_at),"
		" finished_at = excluded.finished_at";
	sqlite3_stmt *st = dbi_cached(db, sql);
	if (!st)
		return dbi_fail(db, "workflow journal");
	text(st, 1, r->run_id);
	text(st, 2, r->step);
	text(st, 3, r->state);
	sqlite3_bind_int(st, 4, r->attempts);
	const char *v[] = { r->result, r->error, r->waiting, r->human_input, r->started_at,
		            r->finished_at };
	for (int i = 0; i < 6; i++)
		text(st, i + 5, v[i]);
	return done(db, st, "workflow journal");
}

/* Waits for the write lock in short naps: stages of one pipeline take
 * turns at it many times a second, and SQLite's default waits (1, 2, 5,
 * 10 ms and up) would leave it idle most of the time. Gives up after 10 s,
 * as the default timeout does. */
static int busy(void *arg, int n)
{
	(void)arg;
	if (n >= 20000)
		return 0;
	struct timespec t = { 0, n < 50 ? 100000 : 500000 };
	nanosleep(&t, NULL);
	return 1;
}

int db_flow_read_begin(struct db *db)
{
	static const char sql[] = "BEGIN";
	return sqlite3_get_autocommit(db->h) ? dbi_step(db, sql) : 0;
}

void db_flow_read_end(struct db *db)
{
	static const char sql[] = "COMMIT";
	if (!sqlite3_get_autocommit(db->h))
		dbi_step(db, sql);
}

void db_flow_tune(struct db *db)
{
	sqlite3_wal_autocheckpoint(db->h, 4000);
	sqlite3_busy_handler(db->h, busy, NULL);
	/* A stage writes journal rows only of runs it has just read or
	 * created in the same transaction, and no program deletes a run: the
	 * parent lookup SQLite makes for each row would find what the stage
	 * found, at a tenth of the stage's time. */
	sqlite3_exec(db->h, "PRAGMA foreign_keys=OFF", NULL, NULL, NULL);
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
			sqlite3_bind_null(st, i + 1);
			break;
		}
		jv_free(v);
	}
	return done(db, st, "workflow scores");
}

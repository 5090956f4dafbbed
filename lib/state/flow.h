/* flow: the state of workflows (syn-step, syn-run): runs, the journal of
 * their steps, the rarer events of their timeline, and scores.
 *
 * Tables: workflow_runs (one row a run: its workflow, key, status, the
 * context it started with, the step it was started --at and the step it
 * waits at), workflow_steps (the journal: one row per run and step, with
 * its state, merge, error, waiting payload and human input),
 * workflow_events (retries, step errors, suspensions, resumes, ends) and
 * workflow_scores. A run's current context is never stored whole: it is
 * its input with the merges of its journal applied in order.
 *
 * Objects in, objects out: a row is an object whose fields are its
 * columns; JSON columns (input, error, result, waiting, human_input,
 * data) are JSON values. Writers call these inside the caller's
 * transaction (db_begin/db_commit) when several must land together.
 *
 * jv ownership: jv parameters are borrowed; returned jv are owned by the
 * caller; jv_invalid() means an error (err_msg()), jv_null() not found.
 */
#ifndef PANIC_STATE_FLOW_H
#define PANIC_STATE_FLOW_H

#include <jv.h>
#include <stdint.h>

struct db;

/* A new run. Strings may be NULL; input is JSON text. RUN_KEY is a
 * 64-bit hash of what makes the run the same run again (see
 * lib/flow/stage.h), 0 for none. */
struct db_flow_run {
	const char *id, *workflow, *workflow_file, *status, *input, *at_step;
	const char *started_at, *updated_at;
	int64_t run_key;
};
int db_flow_run_insert(struct db *db, const struct db_flow_run *r);
/* The run ID, or jv_null(). */
jv db_flow_run_get(struct db *db, const char *id);
/* The id of the run of KEY into ID: 1, 0 if there is none, -1 on error. */
int db_flow_run_by_key(struct db *db, int64_t key, char id[static 37]);
/* A change of a run's status: to STATUS, with WAITING_STEP, ERROR (JSON
 * text) and FINISHED_AT (NULL: NULL) and UPDATED_AT; only if its status is
 * ONLY_IF (a status, or "live": running or waiting_for_human), if given. */
struct db_flow_set {
	const char *id, *status, *only_if, *waiting_step, *error, *finished_at, *updated_at;
};
/* The number of runs changed (0 or 1), or -1. */
int db_flow_run_set(struct db *db, const struct db_flow_set *c);
/* What a stage needs to decide about a run at a step. Strings are NULL
 * when absent; the malloc'd ones are freed by db_flow_view_free(). */
struct db_flow_view {
	char status[24];
	char *workflow_file, *at_step, *waiting_step, *run_error; /* run_error: JSON */
	int skipping;   /* started --at a step it has not reached */
	char state[16]; /* this step's row: "" if none */
	int attempts;
	char *result, *human_input; /* JSON texts of this step's row */
};
/* Fills V for run ID at STEP: 1, 0 if there is no such run, -1 on error. */
int db_flow_view(struct db *db, const char *id, const char *step, struct db_flow_view *v);
void db_flow_view_free(struct db_flow_view *v);
/* A journal row (JSON texts for result, error, waiting, human_input).
 * Inserted with seq the number of rows the run has; an existing row is
 * replaced but keeps its seq (and its waiting and human_input unless
 * given). */
struct db_flow_step {
	const char *run_id, *step, *state;
	int attempts;
	const char *result, *error, *waiting, *human_input;
	const char *started_at, *finished_at;
};
int db_flow_step_put(struct db *db, const struct db_flow_step *r);
/* A read transaction around many views (one snapshot, one lock): begun
 * if none is open; ended before writing and before waiting. */
int db_flow_read_begin(struct db *db);
void db_flow_read_end(struct db *db);
/* Fewer, larger WAL checkpoints, for a stage that writes in streams;
 * its journal rows are not checked against workflow_runs by SQLite
 * (the stage has read or made each row's run). */
void db_flow_tune(struct db *db);
/* Stores the human's INPUT for the step STEP at which run ID waits, and
 * sets the run running again: 1 if done, 0 if the run no longer waits
 * there (someone else resumed it first). */
int db_flow_resume(struct db *db, const char *id, const char *step, jv input,
                   const char *at);
/* Appends an event {run_id, at, event, step, data}. */
int db_flow_event_add(struct db *db, jv ev);
/* Inserts or replaces a score {run_id, step, scorer, score (number or
 * null), result, error, at}. */
int db_flow_score_put(struct db *db, jv sc);

/* The steps of workflow file PATH as last described, if the file's
 * MTIME_NS, SIZE and INO are still those it had then: an array, or
 * jv_null(). */
jv db_flow_file_get(struct db *db, const char *path, int64_t mtime_ns, int64_t size,
                    int64_t ino);
/* Keeps STEPS (borrowed) as the description of file PATH as it is. */
int db_flow_file_put(struct db *db, const char *path, int64_t mtime_ns, int64_t size,
                     int64_t ino, jv steps, const char *at);
/* The journal of run ID, by seq: an array of rows. */
jv db_flow_steps(struct db *db, const char *id);
/* The events of run ID, by time. */
jv db_flow_events(struct db *db, const char *id);
/* The scores of run ID, by time. */
jv db_flow_scores(struct db *db, const char *id);
/* The model calls of run ID (the call log's rows linked to it), by time. */
jv db_flow_calls(struct db *db, const char *id);
/* Runs, oldest first, of STATUS and WORKFLOW if given (NULL: any), the
 * last LIMIT (0: all); FN gets each (owning it) and returns 0 to go on. */
int db_flow_run_list(struct db *db, const char *status, const char *workflow, long limit,
                     int (*fn)(jv run, void *ctx), void *ctx);

#endif

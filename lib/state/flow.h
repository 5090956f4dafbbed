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

struct db;

/* Inserts RUN {id, workflow, workflow_file, run_key, status, input,
 * at_step, started_at, updated_at}. */
int db_flow_run_insert(struct db *db, jv run);
/* The run ID, or jv_null(). */
jv db_flow_run_get(struct db *db, const char *id);
/* The id of the run of KEY, or jv_null(). */
jv db_flow_run_by_key(struct db *db, const char *key);
/* Sets the status of run C.id to C.status, with C.waiting_step, C.error
 * and C.finished_at (absent: NULL) and C.updated_at; only if its status
 * is C.only_if (a status, or "live": running or waiting_for_human), when
 * given. Returns the number of runs changed (0 or 1), or -1. */
int db_flow_run_set(struct db *db, jv c);
/* What a stage needs to decide about run ID at STEP: the run's fields,
 * "skipping" (started --at a step it has not reached), "nsteps" (rows in
 * its journal) and "row" (this step's row, or null). jv_null() if there
 * is no such run. */
jv db_flow_view(struct db *db, const char *id, const char *step);
/* Inserts or replaces the journal row ROW {run_id, step, seq, state,
 * attempts, result, error, waiting, human_input, started_at,
 * finished_at}; an existing row keeps its seq. */
int db_flow_step_put(struct db *db, jv row);
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

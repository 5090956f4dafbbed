/* db: the state file (DESIGN.md §3), the interface.
 *
 * Every program reaches state only through this module, so that a second
 * backend can replace SQLite without the programs knowing. Opening a file
 * sets WAL mode, a busy timeout, foreign keys and synchronous=NORMAL, and
 * migrates the schema forward (PRAGMA user_version) inside BEGIN IMMEDIATE,
 * so many processes may open it at once.
 *
 * Writes that come in streams (the call log) are batched and written by a
 * thread of this module with its own connection, so a program computing
 * the next record is not held up by SQLite: db_call_log() copies the row
 * into a batch; a batch is committed in one short BEGIN IMMEDIATE
 * transaction once it has DB_BATCH_ROWS rows or is DB_BATCH_MS old (checked
 * as rows arrive). A program calls db_flush() whenever it is about to wait
 * or to show what it has done: it returns once every row given so far is
 * committed. Not thread-safe itself: one thread calls db_*.
 *
 * jv ownership: jv parameters are borrowed; jv given to callbacks are owned
 * by the callback.
 */
#ifndef PANIC_DB_H
#define PANIC_DB_H

#include <jv.h>
#include <stdint.h>

#define DB_BATCH_ROWS 2000
#define DB_BATCH_MS 200

struct db;

enum { DB_CREATE = 1, DB_WRITE = 2 };

/* Opens (with DB_CREATE, creating it 0600 and its directories 0700) the
 * state file at PATH and migrates it. With DB_WRITE, a state file this
 * process cannot write is an error now, before the program does any work.
 * 0, or -1 with err_msg(), or DB_READONLY (< 0) if the file cannot be
 * written. */
#define DB_READONLY (-2)
int db_open(struct db **out, const char *path, int flags);
/* Commits any open batch and closes. Returns -1 if the commit failed. */
int db_close(struct db *db);
/* Commits the open batch, if any. */
int db_flush(struct db *db);
/* 1 if another connection (any process) has committed a change since the
 * last call (the first call says 1), 0 if not, -1 on error: when to read
 * again what others may edit. */
int db_changed(struct db *db);

/* One row of the call log. Strings may be NULL (stored as NULL). */
struct db_call {
	const char *id, *model, *platform, *input_type, *output_type;
	const char *prompt, *response; /* with their lengths in bytes */
	int prompt_len, response_len;
	const char *state, *error_kind, *error_message;
	jv usage; /* object or null; input_tokens/output_tokens are taken from it */
	double cost; /* US dollars; < 0: unknown */
	int64_t duration_ms;
	const char *started_at, *finished_at;
	const char *network, *run_id, *step, *agent;
};
int db_call_log(struct db *db, const struct db_call *c);
/* The same, inserted now on the program's own connection: inside the
 * caller's transaction if it has one (a runner stores a call with the
 * invocation it finishes). */
int db_call_log_now(struct db *db, const struct db_call *c);

/* Which calls: those of MODEL, NETWORK, RUN_ID and AGENT (each NULL for
 * any) whose prompt, response or error holds SEARCH (ASCII letters in
 * either case); LIMIT the most recent (0: all). */
struct db_call_filter {
	long limit;
	const char *model, *network, *run_id, *agent, *search;
};
/* The calls F picks, oldest first; FN gets each as an object and returns
 * 0 to go on. */
int db_call_list(struct db *db, const struct db_call_filter *f,
                 int (*fn)(jv row, void *ctx), void *ctx);

/* Totals of the calls F picks (its limit aside) per model, by model, then
 * one for all with model null: {model, calls, failed, input_tokens,
 * output_tokens, cost, duration_ms}; sums of nothing are null. */
int db_call_totals(struct db *db, const struct db_call_filter *f,
                   int (*fn)(jv row, void *ctx), void *ctx);

/* Bus events too large for a fifo (see bus.h): stored under ID for
 * DB_PAYLOAD_MS, then dropped by a later put. */
#define DB_PAYLOAD_MS (3600 * 1000)
int db_payload_put(struct db *db, const char *id, const char *topic, const char *event,
                   size_t n);
/* The event stored under ID, malloc'd and NUL-terminated (*N its length),
 * or NULL with err_msg(). */
char *db_payload_get(struct db *db, const char *id, size_t *n);

/* Networks, as objects {id, name, models: [ids], lockout_seconds,
 * description, created_at, updated_at}. NET parameters are borrowed. */
/* Creates NET (name, models, and optionally lockout_seconds, description). */
int db_net_create(struct db *db, jv net);
/* The network NAME, jv_null() if there is none, jv_invalid() on error. */
jv db_net_get(struct db *db, const char *name);
/* Calls FN for each network, by name; FN owns the jv and returns 0 to go on. */
int db_net_list(struct db *db, int (*fn)(jv net, void *ctx), void *ctx);
/* Changes network NET.name: the models, lockout_seconds and description NET
 * has (a description of "" removes it). */
int db_net_update(struct db *db, jv net);
/* Deletes network NAME; one with runs only with FORCE (its runs and
 * invocations go with it). */
int db_net_delete(struct db *db, const char *name, int force);

/* Transactions around several writes (BEGIN IMMEDIATE ... COMMIT). */
int db_begin(struct db *db);
int db_commit(struct db *db); /* rolls back if the commit fails */
void db_rollback(struct db *db);

/* Runs and invocations, as objects whose fields are the columns (error,
 * usage and metadata as JSON values). Parameters are borrowed. */
/* Inserts RUN, or updates its state, stopped_at and reason. */
int db_run_put(struct db *db, jv run);
/* The running run of network NETWORK_ID, or jv_null(); jv_invalid() on error. */
jv db_run_current(struct db *db, const char *network_id);
/* Inserts INV, or updates the invocation (run_id, seq) to INV's state. */
int db_inv_put(struct db *db, jv inv);
/* The invocation of RUN_ID with the highest seq, or jv_null(). */
jv db_inv_last(struct db *db, const char *run_id);

/* Named locks of a state file, one holder at a time across processes
 * whatever path they reached the file by (symlink, hard link, bind mount),
 * released when the holder exits however it exits; the holder may leave a
 * note (a JSON object) that others can read while it holds the lock. */
struct db_lock;
#define DB_NOTE_MAX 1024
/* Takes lock NAME, or -1 with err_msg() saying who holds it. */
int db_lock(struct db *db, const char *name, struct db_lock **out);
int db_lock_note(struct db_lock *l, jv note);
void db_unlock(struct db_lock *l);
/* The note of lock NAME if someone holds it (an empty object if it left
 * none where this path finds it), else jv_null(). */
jv db_lock_peek(struct db *db, const char *name);

#endif

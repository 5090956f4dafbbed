/* agents: Arboretum's agents table and its event log (DESIGN.md §3, §6).
 *
 * An agent row is an object of its columns: id, name (unique, compared
 * case-insensitively), status, llm_config, prompts, abilities,
 * responsibilities, retry_policy, concurrency (an integer, or null),
 * last_error, inserted_at, updated_at and rev. The JSON columns come and go as their TEXT, exactly as stored:
 * checking them is lib/agent's work, and a row edited by hand in sqlite3
 * into invalid JSON must still be readable, to say what is wrong with it.
 *
 * rev counts the changes of the columns that make the agent (name,
 * status, llm_config, prompts, abilities, responsibilities,
 * retry_policy, concurrency), by a trigger, so a change made by hand in sqlite3 counts
 * too; last_error and the event log do not move it. A runner follows the
 * table by polling db_agent_revs() when db_changed() (db.h) says so.
 *
 * agent_events: one row per thing that happened to an agent (a job
 * completed or failed, a crash, a restart, flapping, a configuration
 * error), kept after the agent is deleted.
 *
 * jv ownership: parameters are borrowed; returned jv are the caller's.
 */
#ifndef PANIC_STATE_AGENTS_H
#define PANIC_STATE_AGENTS_H

#include <jv.h>
#include <stdint.h>

struct db;

/* The JSON columns, in row order. */
#define DB_AGENT_JSON_COLUMNS "llm_config prompts abilities responsibilities retry_policy"

/* Inserts AGENT (every column as text; id, inserted_at and updated_at are
 * made if absent). -1 with err_msg() ("agent 'x' already exists"). */
int db_agent_insert(struct db *db, jv agent);
/* Writes AGENT's columns to the row with AGENT.id; updated_at is now
 * unless AGENT has one. -1 if there is no such row. */
int db_agent_update(struct db *db, jv agent);
/* Deletes the agent NAME; 0, or -1 ("no agent 'x'"). */
int db_agent_delete(struct db *db, const char *name);
/* The agent NAME (or, with BY_ID, of that id): its row, jv_null() if there
 * is none, jv_invalid() on error. */
jv db_agent_get(struct db *db, const char *name_or_id, int by_id);
/* Calls FN for each row, by name (of STATUS only, if not NULL); FN owns
 * the row and returns 0 to go on. */
int db_agent_list(struct db *db, const char *status,
                  int (*fn)(jv row, void *ctx), void *ctx);
/* {id: [rev, status], ...} of every agent, or jv_invalid(). */
jv db_agent_revs(struct db *db);
/* Sets the status (if STATUS) and last_error (NULL clears it) of agent ID,
 * only where they differ. 1 if the row changed, 0 if not, -1 on error. */
int db_agent_set_state(struct db *db, const char *id, const char *status,
                       const char *last_error);

/* Appends EV to agent_events: agent_id, agent, event, and optionally at
 * (now if absent), responsibility, ability, scheduled_at, attempts,
 * duration_ms, payload, result, error, detail (JSON values or text). */
int db_agent_event(struct db *db, jv ev);
/* The last LIMIT events of agent ID (all agents if NULL), oldest first,
 * of the kinds in EVENTS (a space-separated list, NULL for all). */
jv db_agent_events(struct db *db, const char *id, const char *events, long limit);
/* The latest scheduled_at of a job of responsibility RESP of agent ID
 * (its last cron fire), or NULL; malloc'd. */
char *db_agent_last_fire(struct db *db, const char *id, const char *resp);
/* Deletes events before BEFORE (RFC 3339); the number deleted, or -1. */
long db_agent_prune(struct db *db, const char *before);
/* A hash of every agent's id, rev and status (never 0; 0 on error): what
 * a runner follows, cheaper to compare than db_agent_revs(). */
uint64_t db_agent_fingerprint(struct db *db);

/* The runner's writes off its thread (after db_call_log's writer): a
 * thread with its own connection writes what is queued, in order, in one
 * BEGIN IMMEDIATE transaction a burst (it lingers LOG_LINGER_MS for more,
 * unless someone waits), so the runner never waits for the disk (a commit,
 * a checkpoint's fsync) between an event and the ability it starts.
 * db_agent_log_sync() waits until all that was queued is committed: call
 * it before writing the same rows on the runner's own connection (and
 * never while that connection holds a write transaction), and before
 * reading what was queued. A failure is sticky: the later calls return -1
 * with it, and nothing more is written. */
struct db_agent_log;
int db_agent_log_open(struct db *db, struct db_agent_log **out);
/* Queues db_agent_event(EV). */
int db_agent_log_event(struct db_agent_log *l, jv ev);
/* Queues agent ID's last_error (NULL clears it), where it differs. */
int db_agent_log_error(struct db_agent_log *l, const char *id, const char *last_error);
int db_agent_log_sync(struct db_agent_log *l);
/* Syncs, then stops the thread and frees L; the sync's result. */
int db_agent_log_close(struct db_agent_log *l);

#endif

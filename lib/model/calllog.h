/* calllog: a finished call as a row of the state file's call log
 * (DESIGN.md §3), the one place a struct call becomes a struct db_call.
 */
#ifndef PANIC_MODEL_CALLLOG_H
#define PANIC_MODEL_CALLLOG_H

struct call;
struct db;

/* Fields of a record that link its call to what it was made for, in the
 * order call_log() takes them. */
#define CALL_LINKS 4
extern const char *const call_link_names[CALL_LINKS]; /* network run_id step agent */

/* Logs the finished call C in the call log of DB, linked to LINKS: the
 * network, run_id, step and agent it was made for (each may be NULL).
 * NOW: at once, in the caller's transaction (db_call_log_now()), else in
 * the next batch (db_call_log()). */
int call_log(struct db *db, const struct call *c, const char *const links[CALL_LINKS], int now);

#endif

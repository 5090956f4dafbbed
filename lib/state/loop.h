/* loop: what a network's runner (panic-loop) tells others through the
 * state file: its lock, and the note it keeps there of what it does, read
 * by panic-loop --status and panic-web.
 *
 * jv ownership: NET is borrowed; returned jv are the caller's.
 */
#ifndef PANIC_STATE_LOOP_H
#define PANIC_STATE_LOOP_H

#include <jv.h>
#include <stdint.h>

struct db;

/* The name of the lock the runner of network NET holds. */
char *loop_lock_name(jv net, char buf[static 80]);
/* The runner's status at wall time NOW_MS: {"network", "state": "not
 * running"} or its note {pid, network, state (idle, invoking, waiting),
 * run_id, seq, lockout_seconds, run_started_ms, updated_ms} with
 * in_lockout and lockout_seconds_left (while a run is on), next_at and
 * next_in_ms (when the next invocation is due). jv_invalid() on error. */
jv loop_status(struct db *db, jv net, int64_t now_ms);

#endif

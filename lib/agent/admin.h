/* admin: the agents table as agent-ctl and panic-web read and change it.
 *
 * An agent comes out as agent-ctl show prints it (agent_row_object, spec.h);
 * every change is checked as agent_check checks it, stored, and published
 * on agents:changed (world.h). agent_save can also give every field's
 * error at once (agent_errors), for a form. agent_status is what agent-ctl
 * status prints of an agent: its runner's live state from the lock note
 * agent-run keeps, and its last run from the event log.
 *
 * jv ownership: parameters are borrowed; what comes back is the caller's.
 */
#ifndef PANIC_AGENT_ADMIN_H
#define PANIC_AGENT_ADMIN_H

#include <jv.h>

#include "agent/spec.h"

struct bus;
struct db;

/* The agent NAME as an object; jv_null() if there is none (err_msg():
 * "no agent 'x'"); jv_invalid() with err_msg() on a state error. */
jv agent_get(struct db *db, const char *name);
/* Every agent as an object, by name: FN owns each and returns 0 to go
 * on. 0, or -1 with err_msg(). */
int agent_list(struct db *db, int (*fn)(jv agent, void *ctx), void *ctx);
/* Checks IN (an agent object) with LK and stores it: a new agent if
 * CREATE, else the agent of IN's id updated. Publishes "created" or
 * "updated" on BUS (if not NULL). Returns the stored agent, or
 * jv_invalid() with err_msg() (the first error) and, if ERRORS is not
 * NULL and IN is not valid, every field's error in *ERRORS (see
 * agent_errors; a store that fails, such as a name taken, is an error of
 * "name"). */
jv agent_save(struct db *db, struct bus *bus, const struct agent_lookup *lk, jv in, int create,
              jv *errors);
/* IN with the field "status" set to STATUS and updated_at left to the
 * store: what activate and deactivate save. */
jv agent_with_status(jv in, const char *status);
/* What agent-ctl status prints of the agent of ROW (a table row, or an
 * object of agent_get): {name, status, state, pid, runner, next_fire,
 * running, queued, last_run, last_result, last_error}: the same fields
 * whether a runner runs it or not (then pid, runner and next_fire are
 * null, running and queued 0). */
jv agent_status(struct db *db, jv row);

#endif

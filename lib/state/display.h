/* display: what panic-watch (and panic-web's display pages) read of the
 * state file to draw a network's recent invocations before following the
 * bus.
 *
 * jv ownership: returned jv are the caller's.
 */
#ifndef PANIC_STATE_DISPLAY_H
#define PANIC_STATE_DISPLAY_H

#include <jv.h>

struct db;

/* The most recent run of network NETWORK_ID, running or not, or
 * jv_null(); jv_invalid() with err_msg() on error. */
jv db_display_run(struct db *db, const char *network_id);
/* The last LIMIT invocations of RUN_ID, as an array ordered by seq
 * (objects whose fields are the columns), or jv_invalid(). */
jv db_display_recent(struct db *db, const char *run_id, long limit);

#endif

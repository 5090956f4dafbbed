/* world: what checking an agent asks of the machine (spec.h's struct
 * agent_lookup) answered: abilities from the allow-list, models from the
 * catalogue, zones from the zone files; and the agents:changed event that
 * every change of the table publishes.
 *
 * jv ownership: parameters are borrowed.
 */
#ifndef PANIC_AGENT_WORLD_H
#define PANIC_AGENT_WORLD_H

#include <jv.h>

#include "agent/ability.h"
#include "agent/spec.h"

struct catalogue;
struct bus;
struct db;

struct agent_world {
	struct ability_dirs dirs;
	struct catalogue *cat; /* borrowed; NULL: models are not checked */
	struct agent_lookup lk;
};

/* DIRS (N, from --abilities) and the catalogue CAT. 0, or -1 with err_msg(). */
int agent_world_init(struct agent_world *w, char *const dirs[], int n, struct catalogue *cat);
void agent_world_free(struct agent_world *w);

/* Publishes {"event": EVENT, "agent": AGENT} on agents:changed, AGENT the
 * agent as agent-ctl export prints it. */
int agent_publish_changed(struct bus *b, struct db *db, const char *event, jv agent);

#endif

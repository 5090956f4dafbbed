/* world: the checks' questions answered, and agents:changed; see world.h. */
#include <stdlib.h>
#include <string.h>

#include "agent/tz.h"
#include "agent/world.h"
#include "base/err.h"
#include "bus/bus.h"
#include "json/json.h"
#include "model/catalogue.h"

static int ability(const char *name, void *ctx)
{
	struct agent_world *w = ctx;
	char *path;
	if (ability_find(&w->dirs, name, &path) < 0)
		return -1;
	free(path);
	return 0;
}

static int model(const char *id, void *ctx)
{
	struct agent_world *w = ctx;
	if (!w->cat || catalogue_find(w->cat, id))
		return 0;
	return err_set("unknown model '%s' (see panic-invoke --list)", id);
}

static int zone(const char *name, void *ctx)
{
	(void)ctx;
	struct tz z;
	if (tz_load(&z, name) < 0)
		return -1;
	tz_free(&z);
	return 0;
}

int agent_world_init(struct agent_world *w, char *const dirs[], int n, struct catalogue *cat)
{
	memset(w, 0, sizeof *w);
	w->cat = cat;
	w->lk = (struct agent_lookup){ ability, model, zone, w };
	return ability_dirs_init(&w->dirs, dirs, n);
}

void agent_world_free(struct agent_world *w)
{
	ability_dirs_free(&w->dirs);
}

int agent_publish_changed(struct bus *b, struct db *db, const char *event, jv agent)
{
	if (!b)
		return 0;
	jv ev = json_set(json_set(jv_object(), "event", jv_string(event)), "agent", jv_copy(agent));
	int rc = bus_publish(b, "agents:changed", ev, db);
	jv_free(ev);
	return rc < 0 ? -1 : 0;
}

/* events: a run's events; see events.h. */
#include <stdio.h>
#include <string.h>

#include "base/timeutil.h"
#include "bus/bus.h"
#include "flow/events.h"
#include "json/json.h"
#include "state/flow.h"

jv flow_event(const char *event, const char *run, const char *step, jv extra)
{
	char at[32];
	jv d = jv_object();
	d = json_set(d, "event", jv_string(event));
	d = json_set(d, "run_id", jv_string(run));
	d = json_set(d, "step", step ? jv_string(step) : jv_null());
	d = json_set(d, "at", jv_string(time_rfc3339(time_now_ms(), at)));
	if (jv_get_kind(extra) == JV_KIND_OBJECT) {
		jv_object_foreach(extra, k, v)
			d = jv_object_set(d, k, v);
	}
	jv_free(extra);
	return d;
}

char *flow_topic(const char *run, char topic[static FLOW_TOPIC_MAX])
{
	snprintf(topic, FLOW_TOPIC_MAX, "synaptic:run:%s", run);
	return topic;
}

int flow_event_stored(const char *event)
{
	static const char *const frequent[] = { "started", "step_completed", "completed",
		                                "stream_chunk", "stream_done", NULL };
	for (int i = 0; frequent[i]; i++)
		if (!strcmp(event, frequent[i]))
			return 0;
	return 1;
}

int flow_event_publish(struct bus *b, struct db *db, jv data)
{
	char topic[FLOW_TOPIC_MAX];
	const char *run = json_str(data, "run_id", NULL);
	if (!b || !run || !bus_wants(b, flow_topic(run, topic)))
		return 0;
	return bus_publish(b, topic, data, db) < 0 ? -1 : 0;
}

int flow_event_store(struct db *db, jv data)
{
	jv ev = jv_object();
	ev = json_set(ev, "run_id", json_get(data, "run_id"));
	ev = json_set(ev, "at", json_get(data, "at"));
	ev = json_set(ev, "event", json_get(data, "event"));
	ev = json_set(ev, "step", json_get(data, "step"));
	jv rest = jv_copy(data);
	static const char *const own[] = { "run_id", "at", "event", "step" };
	for (int i = 0; i < 4; i++)
		rest = jv_object_delete(rest, jv_string(own[i]));
	ev = json_set(ev, "data", rest);
	int rc = db_flow_event_add(db, ev);
	jv_free(ev);
	return rc;
}

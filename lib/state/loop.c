/* loop: a runner's lock and status, as others read them (loop.h). */
#include <math.h>
#include <stdio.h>

#include "base/timeutil.h"
#include "json/json.h"
#include "state/db.h"
#include "state/loop.h"

char *loop_lock_name(jv net, char buf[static 80])
{
	snprintf(buf, 80, "loop-%s", json_str_or(net, "id", ""));
	return buf;
}

jv loop_status(struct db *db, jv net, int64_t now)
{
	char name[80];
	const char *netname = json_str_or(net, "name", "");
	jv n = db_lock_peek(db, loop_lock_name(net, name));
	if (!jv_is_valid(n))
		return n;
	if (jv_get_kind(n) == JV_KIND_NULL)
		return json_set(json_set(jv_object(), "network", jv_string(netname)), "state",
		                jv_string("not running"));
	if (!json_has(n, "state")) /* its note is not where this path looks */
		n = json_set(json_set(n, "network", jv_string(netname)), "state",
		             jv_string("running"));
	jv start = json_get(n, "run_started_ms"), lock = json_get(n, "lockout_seconds");
	jv next = json_get(n, "next_at_ms");
	if (jv_get_kind(start) == JV_KIND_NUMBER) {
		double left = ceil((jv_number_value(start) + jv_number_value(lock) * 1000 -
		                    (double)now) / 1000);
		n = json_set(n, "in_lockout", jv_bool(left > 0));
		n = json_set(n, "lockout_seconds_left", jv_number(left > 0 ? left : 0));
	}
	if (jv_get_kind(next) == JV_KIND_NUMBER) {
		char at[32];
		n = json_set(n, "next_at",
		             jv_string(time_rfc3339(json_int(next, 0, 0, INT64_MAX / 2), at)));
		n = json_set(n, "next_in_ms", jv_number(fmax(0, jv_number_value(next) - (double)now)));
	}
	n = jv_object_delete(n, jv_string("next_at_ms"));
	jv_free(start);
	jv_free(lock);
	jv_free(next);
	return n;
}

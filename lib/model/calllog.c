/* calllog: a finished call as a row of the call log; see calllog.h. */
#include <string.h>

#include "base/timeutil.h"
#include "json/json.h"
#include "model/calllog.h"
#include "model/catalogue.h"
#include "model/platform.h"
#include "state/db.h"

const char *const call_link_names[CALL_LINKS] = { "network", "run_id", "step", "agent" };

int call_log(struct db *db, const struct call *c, const char *const links[CALL_LINKS], int now)
{
	char started[32], finished[32];
	jv kind = json_get(c->error, "kind"), msg = json_get(c->error, "message");
	int out = jv_get_kind(c->output) == JV_KIND_STRING;
	struct db_call row = {
		.id = c->id,
		.model = c->model->id,
		.platform = c->model->platform->name,
		.input_type = mtype_name(c->model->input),
		.output_type = mtype_name(c->model->output),
		.prompt = jv_string_value(c->input),
		.prompt_len = jv_string_length_bytes(jv_copy(c->input)),
		.response = out ? jv_string_value(c->output) : NULL,
		.response_len = out ? jv_string_length_bytes(jv_copy(c->output)) : 0,
		.state = jv_get_kind(c->error) == JV_KIND_NULL ? "completed"
		         : jv_get_kind(kind) == JV_KIND_STRING && !strcmp(jv_string_value(kind), "cancelled")
		                 ? "cancelled"
		                 : "failed",
		.error_kind = jv_get_kind(kind) == JV_KIND_STRING ? jv_string_value(kind) : NULL,
		.error_message = jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : NULL,
		.usage = c->usage,
		.cost = c->cost,
		.duration_ms = c->duration_ms,
		.started_at = time_rfc3339(c->started_at, started),
		.finished_at = time_rfc3339(c->started_at + c->duration_ms, finished),
		.network = links[0],
		.run_id = links[1],
		.step = links[2],
		.agent = links[3],
	};
	int rc = now ? db_call_log_now(db, &row) : db_call_log(db, &row);
	jv_free(kind);
	jv_free(msg);
	return rc;
}

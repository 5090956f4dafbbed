/* calllog: a finished call as a row of the state file's call log; see
 * call_log() in platform.h. */
#include "db.h"
#include "json.h"
#include "model.h"
#include "platform.h"
#include "timeutil.h"

int call_log(struct db *db, const struct call *c, const char *const links[4], int now)
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
		.state = jv_get_kind(c->error) == JV_KIND_NULL ? "completed" : "failed",
		.error_kind = jv_get_kind(kind) == JV_KIND_STRING ? jv_string_value(kind) : NULL,
		.error_message = jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : NULL,
		.usage = c->usage,
		.cost = -1,
		.duration_ms = c->duration_ms,
		.started_at = time_rfc3339(c->started_at, started),
		.finished_at = time_rfc3339(c->started_at + c->duration_ms, finished),
		.network = links[0],
		.run_id = links[1],
		.step = links[2],
		.agent = links[3],
	};
	jv cost = call_cost(c);
	if (jv_get_kind(cost) == JV_KIND_NUMBER)
		row.cost = jv_number_value(cost);
	jv_free(cost);
	int rc = now ? db_call_log_now(db, &row) : db_call_log(db, &row);
	jv_free(kind);
	jv_free(msg);
	return rc;
}

/* Price P's FIELD, or 0. */
static double price(jv p, const char *field, int *any)
{
	jv v = json_get(p, field);
	double d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : 0;
	*any |= jv_get_kind(v) == JV_KIND_NUMBER;
	jv_free(v);
	return d;
}

jv call_cost(const struct call *c)
{
	/* "price": {"input": $ per million input tokens, "output": $ per
	 * million output tokens, "call": $ per call} */
	jv p = json_get(c->model->entry, "price");
	int call = 0, tokens = 0;
	double cost = price(p, "call", &call);
	double in = price(p, "input", &tokens), out = price(p, "output", &tokens);
	jv_free(p);
	jv ti = json_get(c->usage, "input_tokens"), to = json_get(c->usage, "output_tokens");
	int have = jv_get_kind(ti) == JV_KIND_NUMBER && jv_get_kind(to) == JV_KIND_NUMBER;
	if (tokens && have)
		cost += (jv_number_value(ti) * in + jv_number_value(to) * out) / 1e6;
	jv_free(ti);
	jv_free(to);
	if (!call && !(tokens && have))
		return jv_null();
	if (jv_get_kind(c->error) != JV_KIND_NULL && !have)
		return jv_null(); /* a failed call is billed for what it used, if known */
	return jv_number(cost);
}

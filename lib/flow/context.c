/* context: splitting records, merging results, reading a step's output;
 * see context.h. */
#include <stdio.h>
#include <string.h>

#include "flow/context.h"
#include "flow/schema.h"
#include "json/json.h"

static const char *const owned[] = { "_run", "_key", "_status", "_error" };

unsigned flow_owned(jv rec)
{
	return json_key_mask(rec, owned, 4);
}

jv flow_split(jv rec, unsigned mask, jv *run, jv *key)
{
	*run = mask & FLOW_OWN_RUN ? json_get(rec, "_run") : jv_invalid();
	*key = mask & FLOW_OWN_KEY ? json_get(rec, "_key") : jv_invalid();
	for (size_t i = 0; i < sizeof owned / sizeof *owned; i++)
		if (mask & (1u << i))
			rec = jv_object_delete(rec, jv_string(owned[i]));
	return rec;
}

jv flow_merge(jv ctx, jv merge)
{
	jv_object_foreach(merge, k, v)
		ctx = jv_object_set(ctx, k, v);
	jv_free(merge);
	return ctx;
}

jv flow_context_of(jv input, jv steps)
{
	if (jv_get_kind(input) != JV_KIND_OBJECT) {
		jv_free(input);
		input = jv_object();
	}
	jv_array_foreach(steps, i, row)
	{
		const char *st = json_str(row, "state", NULL);
		jv res = json_get(row, "result");
		if (st && (!strcmp(st, "completed") || !strcmp(st, "skipped")) &&
		    jv_get_kind(res) == JV_KIND_OBJECT)
			input = flow_merge(input, res);
		else
			jv_free(res);
		jv_free(row);
	}
	return input;
}

static void bad(struct flow_outcome *o, jv out, const char *fmt, const char *arg)
{
	jv_free(out);
	jv_free(o->merge);
	jv_free(o->suspend);
	o->merge = o->suspend = jv_null();
	o->kind = FO_BAD;
	snprintf(o->why, sizeof o->why, fmt, arg);
}

int flow_suspend_check(jv s, char *why, size_t size)
{
	if (jv_get_kind(s) != JV_KIND_OBJECT) {
		snprintf(why, size, "\"_suspend\" must be an object, got %s",
		         jv_kind_name(jv_get_kind(s)));
		return -1;
	}
	jv m = json_get(s, "message"), md = json_get(s, "metadata"), sc = json_get(s, "schema");
	int rc = -1;
	if (jv_get_kind(m) != JV_KIND_STRING)
		snprintf(why, size, "\"_suspend\" needs a \"message\" string");
	else if (jv_is_valid(md) && jv_get_kind(md) != JV_KIND_OBJECT && jv_get_kind(md) != JV_KIND_NULL)
		snprintf(why, size, "\"_suspend\": \"metadata\" must be an object");
	else if (jv_is_valid(sc) && jv_get_kind(sc) != JV_KIND_NULL &&
	         flow_schema_check(sc, why, size) < 0)
		;
	else
		rc = 0;
	jv_free(m);
	jv_free(md);
	jv_free(sc);
	return rc;
}

void flow_outcome(jv out, struct flow_outcome *o)
{
	o->merge = o->suspend = jv_null();
	o->why[0] = 0;
	o->kind = FO_MERGE;
	if (jv_get_kind(out) != JV_KIND_OBJECT) {
		bad(o, out, "the output is not one JSON object but %s",
		    jv_kind_name(jv_get_kind(out)));
		return;
	}
	static const char *const asks[] = { "_run", "_key", "_status", "_error", "_suspend", "_stop" };
	unsigned mask = json_key_mask(out, asks, 6);
	if (!mask) {
		o->merge = out;
		return;
	}
	for (int i = 0; i < 4; i++)
		if (mask & (1u << i)) {
			bad(o, out, "the output sets \"%s\", which the pipeline owns", asks[i]);
			return;
		}
	jv susp = json_get(out, "_suspend");
	if (jv_is_valid(susp)) {
		char why[400];
		if (flow_suspend_check(susp, why, sizeof why) < 0) {
			jv_free(susp);
			bad(o, out, "%s", why);
			return;
		}
		jv s = jv_object();
		s = json_set(s, "message", json_get(susp, "message"));
		jv md = json_get(susp, "metadata"), sc = json_get(susp, "schema");
		s = json_set(s, "metadata", jv_get_kind(md) == JV_KIND_OBJECT ? md : (jv_free(md), jv_object()));
		s = json_set(s, "schema", jv_get_kind(sc) == JV_KIND_OBJECT ? sc : (jv_free(sc), jv_null()));
		jv_free(susp);
		jv_free(out);
		o->kind = FO_SUSPEND;
		o->suspend = s;
		return;
	}
	jv_free(susp);
	jv stop = json_get(out, "_stop");
	if (jv_is_valid(stop)) {
		jv_kind k = jv_get_kind(stop);
		if (k == JV_KIND_STRING) {
			snprintf(o->why, sizeof o->why, "%s", jv_string_value(stop));
		} else if (k == JV_KIND_TRUE) {
			snprintf(o->why, sizeof o->why, "stopped by the step");
		} else if (k != JV_KIND_FALSE && k != JV_KIND_NULL) {
			jv_free(stop);
			bad(o, out, "\"_stop\" must be true or a reason%s", "");
			return;
		}
		out = jv_object_delete(out, jv_string("_stop"));
		if (k == JV_KIND_STRING || k == JV_KIND_TRUE)
			o->kind = FO_STOP;
	}
	jv_free(stop);
	o->merge = out;
}

void flow_outcome_text(const char *s, size_t n, struct flow_outcome *o)
{
	o->merge = o->suspend = jv_null();
	jv_parser *p = jv_parser_new(0);
	jv_parser_set_buf(p, s, (int)n, 0);
	jv v = jv_parser_next(p);
	if (!jv_is_valid(v)) {
		char why[300];
		if (jv_invalid_has_msg(jv_copy(v))) {
			json_error_text(v, why, sizeof why);
			bad(o, jv_null(), "the output is not JSON: %s", why);
		} else {
			jv_free(v);
			bad(o, jv_null(), "the output is empty, not a JSON object%s", "");
		}
		jv_parser_free(p);
		return;
	}
	jv more = jv_parser_next(p);
	jv_parser_free(p);
	if (jv_is_valid(more) || jv_invalid_has_msg(jv_copy(more))) {
		jv_free(more);
		bad(o, v, "the output is more than one JSON value%s", "");
		return;
	}
	jv_free(more);
	flow_outcome(v, o);
}

void flow_outcome_free(struct flow_outcome *o)
{
	jv_free(o->merge);
	jv_free(o->suspend);
	o->merge = o->suspend = jv_null();
}

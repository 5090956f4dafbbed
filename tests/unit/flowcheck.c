/* flowcheck: the pure parts of lib/flow, case by case, for the table tests
 * of tests/105-flow-tables.bats.
 *
 * Reads one case per line, {"fn": NAME, ...arguments}, and writes one
 * result per line:
 *   schema_check {schema}            {"ok": true} or {"error": WHY}
 *   schema_validate {schema, input}  the same
 *   schema_errors {schema, input}    {"errors": [{field, message}]}
 *   split {rec}                      {"ctx", "run", "key"}
 *   merge {ctx, merge}               the merged context
 *   outcome {text}                   {"kind", "merge", "suspend", "why"}
 *   fill {template, ctx}             {"text"} or {"error"}
 *   decide {status, state, skipping, is_at}   {"action"}
 *   context_of {input, steps}        the context
 *   name_check {name}                {"ok": true} or {"error"}
 *   script {text}                    {"stages": [[ARG...]...]} or {"not": WHY}
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "flow/context.h"
#include "flow/replay.h"
#include "flow/schema.h"
#include "flow/script.h"
#include "flow/step.h"
#include "flow/template.h"
#include "json/json.h"

static jv verdict(int rc, const char *why)
{
	return rc == 0 ? json_set(jv_object(), "ok", jv_true())
	               : json_set(jv_object(), "error", jv_string(why));
}

static jv one(jv c)
{
	const char *fn = json_str_or(c, "fn", "");
	char why[600];
	if (!strcmp(fn, "schema_check")) {
		jv s = json_get(c, "schema");
		int rc = flow_schema_check(s, why, sizeof why);
		jv_free(s);
		return verdict(rc, why);
	}
	if (!strcmp(fn, "schema_validate")) {
		jv s = json_get(c, "schema"), in = json_get(c, "input");
		int rc = flow_schema_validate(s, in, why, sizeof why);
		jv_free(s);
		jv_free(in);
		return verdict(rc, why);
	}
	if (!strcmp(fn, "schema_errors")) {
		jv s = json_get(c, "schema"), in = json_get(c, "input");
		jv r = json_set(jv_object(), "errors", flow_schema_errors(s, in));
		jv_free(s);
		jv_free(in);
		return r;
	}
	if (!strcmp(fn, "split")) {
		jv run, key;
		jv rec = json_get(c, "rec");
		jv ctx = flow_split(rec, flow_owned(rec), &run, &key);
		jv r = json_set(jv_object(), "ctx", ctx);
		r = json_set(r, "run", jv_is_valid(run) ? run : (jv_free(run), jv_null()));
		return json_set(r, "key", jv_is_valid(key) ? key : (jv_free(key), jv_null()));
	}
	if (!strcmp(fn, "merge"))
		return flow_merge(json_get(c, "ctx"), json_get(c, "merge"));
	if (!strcmp(fn, "outcome")) {
		struct flow_outcome o;
		const char *t = json_str_or(c, "text", "");
		flow_outcome_text(t, strlen(t), &o);
		static const char *const kinds[] = { "merge", "suspend", "stop", "bad" };
		jv r = json_set(jv_object(), "kind", jv_string(kinds[o.kind]));
		r = json_set(r, "merge", jv_copy(o.merge));
		r = json_set(r, "suspend", jv_copy(o.suspend));
		r = json_set(r, "why", o.why[0] ? jv_string(o.why) : jv_null());
		flow_outcome_free(&o);
		return r;
	}
	if (!strcmp(fn, "fill")) {
		jv ctx = json_get(c, "ctx");
		jv t = flow_fill(json_str_or(c, "template", ""), ctx);
		jv_free(ctx);
		if (jv_is_valid(t))
			return json_set(jv_object(), "text", t);
		jv_free(t);
		return json_set(jv_object(), "error", jv_string(err_msg()));
	}
	if (!strcmp(fn, "decide")) {
		jv sk = json_get(c, "skipping"), at = json_get(c, "is_at");
		struct flow_seen s = {
			.status = json_str(c, "status", NULL),
			.state = json_str(c, "state", NULL),
			.skipping = jv_get_kind(sk) == JV_KIND_TRUE,
			.is_at = jv_get_kind(at) == JV_KIND_TRUE,
		};
		jv_free(sk);
		jv_free(at);
		return json_set(jv_object(), "action", jv_string(flow_action_name(flow_decide(&s))));
	}
	if (!strcmp(fn, "context_of")) {
		jv steps = json_get(c, "steps");
		jv r = flow_context_of(json_get(c, "input"), steps);
		jv_free(steps);
		return r;
	}
	if (!strcmp(fn, "script")) {
		const char *t = json_str_or(c, "text", "");
		struct flow_script sc;
		int rc = flow_script_parse(t, strlen(t), &sc);
		jv r = rc == 1 ? jv_array() : json_set(jv_object(), "not", jv_string(sc.why));
		for (int i = 0; rc == 1 && i < sc.n; i++) {
			jv a = jv_array();
			for (int j = 0; j < sc.stage[i].argc; j++)
				a = jv_array_append(a, jv_string(sc.stage[i].argv[j]));
			r = jv_array_append(r, a);
		}
		flow_script_free(&sc);
		return rc == 1 ? json_set(jv_object(), "stages", r) : r;
	}
	if (!strcmp(fn, "name_check"))
		return verdict(flow_step_name_check(json_str_or(c, "name", "")), err_msg());
	return json_set(jv_object(), "error", jv_string("unknown fn"));
}

int main(void)
{
	char *line = NULL;
	size_t size = 0;
	ssize_t n;
	while ((n = getline(&line, &size, stdin)) > 0) {
		jv c = json_parse(line, (size_t)n);
		jv r = jv_get_kind(c) == JV_KIND_OBJECT ? one(c) : jv_string("not a case");
		jv_free(c);
		json_write(stdout, r);
		jv_free(r);
	}
	free(line);
	return 0;
}

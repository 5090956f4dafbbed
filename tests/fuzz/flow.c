/* flow: what a workflow takes from outside (lib/flow). The input is up to
 * three parts split at the first two NUL bytes: what a step's command
 * printed (read as a step's outcome: a merge, a suspension, a stop or an
 * error), a human's answer (checked against the suspension's schema when
 * there is one, else against the first part taken as a schema), and a
 * template (checked, then filled from the context the outcome makes).
 * A filled template is a string; every verdict of a check that fails
 * says why. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "flow/context.h"
#include "flow/schema.h"
#include "flow/template.h"
#include "json/json.h"

static const char *part(const char **s, size_t *n, size_t *len)
{
	const char *p = *s, *z = memchr(p, 0, *n);
	*len = z ? (size_t)(z - p) : *n;
	*s += *len + (z != NULL);
	*n -= *len + (z != NULL);
	return p;
}

int fuzz_one(const unsigned char *data, size_t n)
{
	const char *s = (const char *)data;
	size_t out_n, ans_n, tmpl_n;
	const char *out = part(&s, &n, &out_n);
	const char *ans = part(&s, &n, &ans_n);
	const char *tmpl = part(&s, &n, &tmpl_n);

	struct flow_outcome o;
	flow_outcome_text(out, out_n, &o);
	if (o.kind == FO_BAD && !o.why[0])
		abort();
	jv schema = jv_null();
	if (o.kind == FO_SUSPEND) {
		if (flow_suspend_check(o.suspend, o.why, sizeof o.why) == 0)
			schema = json_get(o.suspend, "schema");
	} else {
		jv v = jv_parse_sized(out, (int)out_n);
		char why[400];
		if (jv_get_kind(v) == JV_KIND_OBJECT && flow_schema_check(v, why, sizeof why) == 0)
			schema = v;
		else
			jv_free(v);
	}
	jv answer = ans_n ? jv_parse_sized(ans, (int)ans_n) : jv_invalid();
	if (jv_get_kind(schema) == JV_KIND_OBJECT && jv_get_kind(answer) == JV_KIND_OBJECT) {
		char why[400] = "";
		if (flow_schema_validate(schema, answer, why, sizeof why) < 0 && !why[0])
			abort();
	}
	jv_free(schema);

	jv ctx = json_set(jv_object(), "input", jv_string_sized(ans, (int)ans_n));
	if (o.kind == FO_MERGE || o.kind == FO_STOP)
		ctx = flow_merge(ctx, jv_copy(o.merge));
	if (jv_get_kind(answer) == JV_KIND_OBJECT)
		ctx = json_set(ctx, "human_input", jv_copy(answer));
	jv_free(answer);
	char *t = malloc(tmpl_n + 1);
	if (t) {
		memcpy(t, tmpl, tmpl_n);
		t[tmpl_n] = 0;
		if (flow_fill_check(t) == 0) {
			jv filled = flow_fill(t, ctx);
			if (jv_is_valid(filled) && jv_get_kind(filled) != JV_KIND_STRING)
				abort();
			jv_free(filled);
		}
		free(t);
	}
	jv_free(ctx);
	flow_outcome_free(&o);
	return 0;
}

/* call: one model call's life (init, done, failed, cleared), its cost
 * from the model's price, and the platforms by name; see platform.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/timeutil.h"
#include "json/json.h"
#include "model/catalogue.h"
#include "model/platform.h"

extern const struct platform platform_dummy, platform_exec, platform_openai,
	platform_replicate, platform_gemini;
static const struct platform *const platforms[] = {
	&platform_dummy, &platform_exec, &platform_openai, &platform_replicate, &platform_gemini,
};

const struct platform *platform_find(const char *name)
{
	for (size_t i = 0; i < sizeof platforms / sizeof *platforms; i++)
		if (!strcmp(platforms[i]->name, name))
			return platforms[i];
	return NULL;
}

void call_init(struct call *c, struct model *m, jv input)
{
	memset(c, 0, sizeof *c);
	c->model = m;
	c->input = input;
	c->output = jv_null();
	c->error = jv_null();
	c->usage = jv_null();
	c->cost = -1;
}

void call_clear(struct call *c)
{
	jv_free(c->input);
	jv_free(c->output);
	jv_free(c->error);
	jv_free(c->usage);
	c->input = c->output = c->error = c->usage = jv_null();
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

/* What C cost, from its model's "price": {"input": $ per million input
 * tokens, "output": $ per million output tokens, "call": $ per call} and
 * its usage; -1 if unknown. A failed call costs what it used, if known. */
static double cost(const struct call *c)
{
	jv p = json_get(c->model->entry, "price");
	if (!jv_is_valid(p))
		return -1;
	int call = 0, tokens = 0;
	double d = price(p, "call", &call);
	double in = price(p, "input", &tokens), out = price(p, "output", &tokens);
	jv_free(p);
	jv ti = json_get(c->usage, "input_tokens"), to = json_get(c->usage, "output_tokens");
	int have = jv_get_kind(ti) == JV_KIND_NUMBER && jv_get_kind(to) == JV_KIND_NUMBER;
	if (tokens && have)
		d += (jv_number_value(ti) * in + jv_number_value(to) * out) / 1e6;
	jv_free(ti);
	jv_free(to);
	if (!call && !(tokens && have))
		return -1;
	if (jv_get_kind(c->error) != JV_KIND_NULL && !have)
		return -1;
	return d;
}

static void finish(struct call *c)
{
	c->done = 1;
	c->duration_ms = time_mono_ms() - c->t0;
	c->cost = cost(c);
}

void call_done(struct call *c, jv output)
{
	jv_free(c->output);
	c->output = output;
	finish(c);
}

void call_fail(struct call *c, const char *kind, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	jv_free(c->error);
	c->error = json_set(json_set(jv_object(), "kind", jv_string(kind)), "message",
	                    jv_string(msg));
	finish(c);
}

jv call_cost(const struct call *c)
{
	return c->cost < 0 ? jv_null() : jv_number(c->cost);
}

/* call: one model call's life (init, done, failed, cleared), its cost
 * from the model's price, and the platforms by name; see platform.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

/* S (consumed) with every SECRET in it masked by asterisks. */
static jv masked(jv s, const char *secret)
{
	size_t k = secret ? strlen(secret) : 0;
	if (k < 4 || jv_get_kind(s) != JV_KIND_STRING || !strstr(jv_string_value(s), secret))
		return s;
	size_t n = (size_t)jv_string_length_bytes(jv_copy(s));
	char *b = malloc(n + 1);
	if (!b)
		return s;
	memcpy(b, jv_string_value(s), n + 1);
	for (char *p = b; (p = strstr(p, secret)); p += k)
		memset(p, '*', k);
	jv out = jv_string_sized(b, (int)n);
	free(b);
	jv_free(s);
	return out;
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
	c->output = masked(output, c->secret);
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
	                    masked(jv_string(msg), c->secret));
	finish(c);
}

jv call_cost(const struct call *c)
{
	return c->cost < 0 ? jv_null() : jv_number(c->cost);
}

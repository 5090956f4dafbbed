/* stagerun: a step's attempts at one run: its suspension, its action (a
 * jq program, a command or a model call on the engine, a scorer), the
 * outcome, retries with backoff, the fallback, and the scorers after it;
 * see stage.h and stagei.h.
 */
#include <jq.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/timeutil.h"
#include "bus/bus.h"
#include "flow/context.h"
#include "flow/events.h"
#include "flow/stagei.h"
#include "flow/template.h"
#include "json/json.h"
#include "model/calllog.h"
#include "model/catalogue.h"
#include "model/engine.h"
#include "state/db.h"

#define NO_TIMEOUT_MS (7 * 86400 * 1000)

/* The first of libjq's messages, the one that says what is wrong (the
 * last only counts the errors), on one line. */
static char jq_error[512];
static void on_jq_error(void *u, jv msg)
{
	(void)u;
	if (jv_get_kind(msg) == JV_KIND_STRING && !jq_error[0]) {
		snprintf(jq_error, sizeof jq_error, "%s", jv_string_value(msg));
		for (char *p = jq_error; *p; p++)
			if (*p == '\n' || *p == '\t')
				*p = ' ';
		for (size_t n = strlen(jq_error); n && jq_error[n - 1] == ' ';)
			jq_error[--n] = 0;
	}
	jv_free(msg);
}

/* An exec model running ARGV (a program and its arguments) as ID. */
static struct model *exec_model(struct stage *s, const char *id, char *const *argv)
{
	jv cmd = jv_array();
	for (int i = 0; argv[i]; i++)
		cmd = jv_array_append(cmd, jv_string(argv[i]));
	jv e = jv_object();
	e = json_set(e, "id", jv_string(id));
	e = json_set(e, "platform", jv_string("exec"));
	e = json_set(e, "input", jv_string("text"));
	e = json_set(e, "output", jv_string("text"));
	e = json_set(e, "command", cmd);
	double t = s->step->timeout > 0 ? s->step->timeout * 1000 : NO_TIMEOUT_MS;
	e = json_set(e, "timeout_ms", jv_number(t < 1 ? 1 : t));
	return catalogue_add(s->cfg.cat, e, "syn-step");
}

int stage_models(struct stage *s)
{
	const struct flow_step *st = s->step;
	if (st->kind == FK_COMMAND || st->kind == FK_SCORE) {
		if (!(s->model = exec_model(s, st->argv[0], st->argv)))
			return -1;
	} else if (st->kind == FK_LLM) {
		if (!(s->model = catalogue_find(s->cfg.cat, st->model)))
			return err_set("unknown model '%s' (see panic-invoke --list)", st->model);
		if (st->ntools && !s->model->platform->tools)
			return err_set("--tool: model '%s' cannot call tools (only openai and gemini models can)",
			               st->model);
		for (int i = 0; i < st->ntools; i++) {
			char id[160];
			char *argv[] = { (char *)st->tools[i].program, NULL };
			snprintf(id, sizeof id, "tool:%s", st->tools[i].name);
			s->tools[i].name = st->tools[i].name;
			if (!(s->tools[i].model = exec_model(s, id, argv)))
				return -1;
		}
	}
	for (int i = 0; i < st->nscorers; i++) {
		char id[160];
		char *argv[] = { (char *)st->scorers[i].program, NULL };
		snprintf(id, sizeof id, "scorer:%s", st->scorers[i].name);
		if (!(s->scorers[i] = exec_model(s, id, argv)))
			return -1;
	}
	return 0;
}

void flow_jq_free(void *jq)
{
	jq_state *j = jq;
	if (j)
		jq_teardown(&j);
}

void stage_run_free(struct stage *s)
{
	if (s->jq) {
		jq_state *jq = s->jq;
		jq_teardown(&jq);
		s->jq = NULL;
	}
}

static void free_env(struct slot *sl)
{
	for (int i = 0; i < 5; i++) {
		free(sl->env[i]);
		sl->env[i] = NULL;
	}
}

void stage_call_clear(struct slot *sl)
{
	call_clear(&sl->call);
	free_env(sl);
	jv_free(sl->sys);
	sl->sys = jv_null();
	sl->calling = 0;
}

void stage_call_cancel(struct stage *s, struct slot *sl)
{
	if (!sl->calling)
		return;
	engine_cancel(s->cfg.eng, &sl->call);
	stage_call_clear(sl);
}


/* --- LLM calls: the call log, llm events, streamed text --- */

void stage_llm_event(struct stage *s, struct slot *sl, const char *what)
{
	struct bus *b = s->cfg.bus;
	if (!b || !bus_wants(b, "llm"))
		return;
	const struct call *c = &sl->call;
	jv d = jv_object();
	d = json_set(d, "event", jv_string(what));
	d = json_set(d, "call_id", jv_string(c->id));
	d = json_set(d, "model", jv_string(c->model->id));
	d = json_set(d, "platform", jv_string(c->model->platform->name));
	d = json_set(d, "run_id", jv_string(sl->run));
	d = json_set(d, "step", jv_string(s->step->name));
	if (strcmp(what, "start")) {
		d = json_set(d, "duration_ms", jv_number((double)c->duration_ms));
		d = json_set(d, "usage", jv_copy(c->usage));
		d = json_set(d, "cost", call_cost(c));
		if (jv_get_kind(c->error) != JV_KIND_NULL)
			d = json_set(d, "error", jv_copy(c->error));
	}
	bus_publish(b, "llm", d, s->cfg.db);
	jv_free(d);
}

static void on_delta(struct call *c, const char *text, size_t n)
{
	stage_stream_piece(c->user, text, n);
}

void stage_stream_piece(struct slot *sl, const char *text, size_t n)
{
	sl->streamed = 1;
	if (jv_get_kind(sl->stream_text) != JV_KIND_STRING)
		sl->stream_text = jv_string("");
	sl->stream_text = jv_string_append_buf(sl->stream_text, text, (int)n);
	struct stage *s = sl->st;
	char topic[FLOW_TOPIC_MAX];
	if (s->cfg.bus && bus_wants(s->cfg.bus, flow_topic(sl->run, topic))) {
		jv d = flow_event("stream_chunk", sl->run, s->step->name,
		                  json_set(jv_object(), "chunk", jv_string_sized(text, (int)n)));
		flow_event_publish(s->cfg.bus, s->cfg.db, d);
		jv_free(d);
	}
}

void stage_start_call(struct stage *s, struct slot *sl, struct model *m, jv input, int what,
                      jv system)
{
	const struct flow_step *st = s->step;
	call_init(&sl->call, m, input);
	memset(&sl->opts, 0, sizeof sl->opts);
	sl->opts.temperature = -1;
	sl->opts.schema = jv_null();
	free_env(sl);
	if (m->platform->name[0] == 'e' && !strcmp(m->platform->name, "exec")) {
		if (asprintf(&sl->env[0], "SYN_RUN=%s", sl->run) < 0 ||
		    asprintf(&sl->env[1], "SYN_STEP=%s", st->name) < 0 ||
		    asprintf(&sl->env[2], "SYN_ATTEMPT=%d", sl->attempt) < 0 ||
		    asprintf(&sl->env[3], "SYN_WORKFLOW=%s",
		             s->cfg.workflow_file ? s->cfg.workflow_file
		             : s->cfg.workflow ? s->cfg.workflow : "") < 0)
			sl->env[0] = sl->env[1] = sl->env[2] = sl->env[3] = NULL;
		sl->opts.env = sl->env;
	} else {
		jv_free(sl->sys);
		sl->sys = jv_copy(system);
		sl->opts.system = jv_get_kind(sl->sys) == JV_KIND_STRING ? jv_string_value(sl->sys) : NULL;
		sl->opts.temperature = st->temperature;
		sl->opts.max_tokens = st->max_tokens;
		sl->opts.schema = st->output_schema;
		sl->opts.tools = s->tools;
		sl->opts.ntools = st->ntools;
		if (st->stream) {
			sl->opts.stream = 1;
			sl->opts.on_delta = on_delta;
		}
		if (st->timeout > 0)
			sl->call.timeout_ms = (int)(st->timeout * 1000);
	}
	sl->call.opts = &sl->opts;
	sl->call.user = sl;
	sl->calling = 1;
	sl->what = what;
	sl->phase = P_CALL;
	sl->streamed = 0;
	engine_start(s->cfg.eng, &sl->call);
	if (m == s->model && st->kind == FK_LLM)
		stage_llm_event(s, sl, "start");
}

/* The suspension of SL: its message and metadata filled from the context. */
static void suspend(struct stage *s, struct slot *sl)
{
	const struct flow_step *st = s->step;
	jv msg = flow_fill(st->suspend, sl->ctx);
	if (!jv_is_valid(msg)) {
		jv_free(msg);
		stage_failure(s, sl, "template", err_msg(), 0);
		return;
	}
	jv md = jv_object();
	if (jv_get_kind(st->metadata) == JV_KIND_OBJECT) {
		jv_object_foreach(st->metadata, k, v)
		{
			if (jv_get_kind(v) == JV_KIND_STRING) {
				jv f = flow_fill(jv_string_value(v), sl->ctx);
				jv_free(v);
				if (!jv_is_valid(f)) {
					jv_free(f);
					jv_free(k);
					jv_free(md);
					jv_free(msg);
					stage_failure(s, sl, "template", err_msg(), 0);
					return;
				}
				v = f;
			}
			md = jv_object_set(md, k, v);
		}
	}
	jv w = jv_object();
	w = json_set(w, "message", msg);
	w = json_set(w, "metadata", md);
	w = json_set(w, "schema", jv_copy(st->schema));
	struct flow_outcome o = { .kind = FO_SUSPEND, .merge = jv_null(), .suspend = w };
	stage_outcome(s, sl, &o);
}

int flow_jq_compile(const char *program, void **out)
{
	jq_state *jq = jq_init();
	if (!jq)
		return err_set("out of memory");
	jq_set_error_cb(jq, on_jq_error, NULL);
	jq_error[0] = 0;
	if (!jq_compile(jq, program)) {
		jq_teardown(&jq);
		return err_set("the jq program does not compile%s%s", *jq_error ? ": " : "", jq_error);
	}
	*out = jq;
	return 0;
}

static void quiet(void *u, jv msg)
{
	(void)u;
	jv_free(msg);
}

int flow_jqset_compile(const char *const *programs, int n, void **out)
{
	/* [i, context] in, program i run on the context: its own
	 * definitions stay inside its parentheses, and a comment on its last
	 * line ends at the newline. Nothing here touches err_msg() or another
	 * static: a chain compiles its set on a thread of its own. */
	jv p = jv_string(".[1] as $__syn_ctx | .[0] as $__syn_i | $__syn_ctx | ");
	for (int i = 0; i < n; i++) {
		char head[64];
		snprintf(head, sizeof head, "%sif $__syn_i == %d then (", i ? "el" : "", i);
		p = jv_string_append_str(jv_string_append_str(p, head), programs[i]);
		p = jv_string_append_str(p, "\n) ");
	}
	p = jv_string_append_str(p, n ? "else empty end" : "empty");
	jq_state *jq = jq_init();
	int ok = jq != NULL;
	if (ok) {
		jq_set_error_cb(jq, quiet, NULL);
		ok = jq_compile(jq, jv_string_value(p));
	}
	jv_free(p);
	if (!ok) {
		if (jq)
			jq_teardown(&jq);
		return -1;
	}
	*out = jq;
	return 0;
}

static void run_jq(struct stage *s, struct slot *sl)
{
	/* Compiled when first needed: libjq takes tens of ms to compile (its
	 * builtins), which a stage that only replays never pays. */
	if (!s->jq && !s->jq_failed && !s->cfg.jqset && flow_jq_compile(s->step->jq, &s->jq) < 0) {
		s->jq_failed = 1;
		snprintf(s->jq_why, sizeof s->jq_why, "%s", err_msg());
	}
	if (!s->jq && !s->cfg.jqset) {
		stage_failure(s, sl, "jq", s->jq_why, 0);
		return;
	}
	jq_state *jq = s->cfg.jqset ? s->cfg.jqset : s->jq;
	if (s->cfg.jqset)
		jq_start(jq, JV_ARRAY(jv_number(s->cfg.jqindex), jv_copy(sl->ctx)), 0);
	else
		jq_start(jq, jv_copy(sl->ctx), 0);
	jv v = jq_next(jq);
	if (!jv_is_valid(v)) {
		jv m = jv_invalid_get_msg(v);
		char why[600];
		if (jv_get_kind(m) == JV_KIND_STRING)
			snprintf(why, sizeof why, "jq: %s", jv_string_value(m));
		else if (jv_get_kind(m) == JV_KIND_NULL)
			snprintf(why, sizeof why, "jq: the program gave no result");
		else {
			jv t = jv_dump_string(jv_copy(m), 0);
			snprintf(why, sizeof why, "jq: %s (not a string)", jv_string_value(t));
			jv_free(t);
		}
		jv_free(m);
		stage_failure(s, sl, "jq", why, 0);
		return;
	}
	jv more = jq_next(jq);
	int two = jv_is_valid(more);
	jv_free(more);
	if (two) {
		jv_free(v);
		stage_failure(s, sl, "jq", "jq: the program gave more than one result", 0);
		return;
	}
	struct flow_outcome o;
	flow_outcome(v, &o);
	stage_outcome(s, sl, &o);
}

void stage_attempt(struct stage *s, struct slot *sl)
{
	const struct flow_step *st = s->step;
	sl->attempt++;
	sl->phase = P_DONE; /* until something is in flight */
	if (sl->attempt == 1 && jv_get_kind(sl->human) != JV_KIND_NULL)
		sl->ctx = json_set(sl->ctx, "human_input", jv_copy(sl->human));
	if (st->suspend && jv_get_kind(sl->human) == JV_KIND_NULL) {
		suspend(s, sl);
		return;
	}
	switch (st->kind) {
	case FK_JQ:
		run_jq(s, sl);
		return;
	case FK_COMMAND:
	case FK_SCORE:
		stage_start_call(s, sl, s->model, jv_dump_string(jv_copy(sl->ctx), 0), C_STEP,
		                 jv_null());
		return;
	case FK_LLM: {
		jv prompt = flow_fill(st->prompt, sl->ctx);
		jv sys = st->system ? flow_fill(st->system, sl->ctx) : jv_null();
		if (!jv_is_valid(prompt) || !jv_is_valid(sys)) {
			jv_free(prompt);
			jv_free(sys);
			stage_failure(s, sl, "template", err_msg(), 0);
			return;
		}
		jv_free(sl->stream_text);
		sl->stream_text = jv_null();
		stage_start_call(s, sl, s->model, prompt, C_STEP, sys);
		jv_free(sys);
		return;
	}
	default: {
		struct flow_outcome o = { .kind = FO_MERGE, .merge = jv_object(), .suspend = jv_null() };
			stage_outcome(s, sl, &o);
	}
	}
}

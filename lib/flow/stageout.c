/* stageout: what comes of a step's attempt: a merge journalled, a
 * suspension, a stop, a retry, the fallback, a failed run, and the scores
 * of its scorers; see stagei.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/timeutil.h"
#include "flow/context.h"
#include "flow/stagei.h"
#include "json/json.h"
#include "model/calllog.h"
#include "model/catalogue.h"
#include "state/db.h"

static jv error_obj(const char *kind, const char *msg)
{
	return json_set(json_set(jv_object(), "kind", jv_string(kind)), "message", jv_string(msg));
}

static void next_scorer(struct stage *s, struct slot *sl)
{
	if (sl->scorer < s->step->nscorers) {
		stage_start_call(s, sl, s->scorers[sl->scorer], jv_dump_string(jv_copy(sl->ctx), 0),
		                 C_SCORER, jv_null());
		return;
	}
	stage_forward(s, sl);
}

/* Whether merging M into CTX only adds fields (both borrowed). */
static int only_adds(jv ctx, jv m)
{
	jv_object_foreach(m, k, v)
	{
		int has = json_has(ctx, jv_string_value(k));
		jv_free(k);
		jv_free(v);
		if (has)
			return 0;
	}
	return 1;
}

/* The text of SL's context with M's fields added, when M only adds
 * fields: M's text MT (N bytes, "{...}") appended to the context's own
 * text, so that a record's bytes and order pass through as they came.
 * Sets *LEN; NULL when out of memory. */
static char *appended(const struct slot *sl, const char *mt, size_t n, size_t *len)
{
	if (n <= 2 || !jv_object_length(jv_copy(sl->ctx))) { /* M is {}, or the context is */
		*len = n <= 2 ? sl->textlen : n;
		return strdup(n <= 2 ? sl->text : mt);
	}
	char *t = malloc(sl->textlen + n);
	if (!t)
		return NULL;
	memcpy(t, sl->text, sl->textlen - 1);
	t[sl->textlen - 1] = ',';
	memcpy(t + sl->textlen, mt + 1, n); /* with its NUL */
	*len = sl->textlen + n - 1;
	return t;
}

/* The step's merge M (consumed) is its result; ERROR (consumed) the
 * failure a fallback stands in for, or null; STOP the reason the step
 * stops the run, or NULL. */
static void on_merge(struct stage *s, struct slot *sl, jv m, jv error, const char *stop)
{
	if (jv_get_kind(sl->human) != JV_KIND_NULL && !json_has(m, "human_input"))
		m = json_set(m, "human_input", jv_copy(sl->human));
	size_t mn, n = 0;
	char *mt = stage_dump(s, m, &mn), *text = NULL;
	jv ctx = jv_invalid();
	if (mt && sl->text && only_adds(sl->ctx, m)) {
		text = appended(sl, mt, mn, &n);
	} else if (mt) {
		ctx = flow_merge(jv_copy(sl->ctx), jv_copy(m));
		text = stage_dump(s, ctx, &n);
	}
	if (!text || n + ID_LEN + 16 > s->cfg.maxline) {
		char why[200];
		snprintf(why, sizeof why, "the context would be %zu bytes, more than the %zu a record may be",
		         n, s->cfg.maxline);
		free(mt);
		free(text);
		jv_free(ctx);
		jv_free(m);
		jv_free(error);
		stage_failure(s, sl, "too_large", why, 0);
		return;
	}
	if (!jv_is_valid(ctx) && (stop || s->step->nscorers)) {
		/* merged in place (the slot holds the only copy), for the
		 * scorers or the stopped record; else the text is all that
		 * goes on */
		ctx = flow_merge(sl->ctx, jv_copy(m));
		sl->ctx = jv_null();
	}
	if (jv_is_valid(ctx)) {
		jv_free(sl->ctx);
		sl->ctx = ctx;
	}
	free(sl->text);
	sl->text = text;
	sl->textlen = n;
	int fallback = jv_get_kind(error) == JV_KIND_OBJECT;
	struct db_flow_step *r = stage_journal(s, sl, "completed", jv_null(), error, jv_null());
	if (r)
		r->result = stage_keepn(s, mt, mn);
	free(mt);
	jv_free(m);
	if (stage_wants_event(s, "step_completed", sl)) {
		jv extra = json_set(jv_object(), "attempts", jv_number(sl->attempt));
		if (fallback)
			extra = json_set(extra, "fallback", jv_true());
		stage_emit_event(s, "step_completed", sl, extra);
	}
	if (stop) {
		jv e = json_set(error_obj("stopped", stop), "step", jv_string(s->step->name));
		stage_run_set(s, sl, "stopped", "live", NULL, e);
		stage_emit_event(s, "stopped", sl, json_set(jv_object(), "reason", jv_string(stop)));
		stage_note(s, 1, "run %s stopped at step %s: %s", sl->run, s->step->name, stop);
		sl->status = "stopped";
		sl->can_complete = 0;
	}
	sl->scorer = 0;
	next_scorer(s, sl);
}

void stage_outcome(struct stage *s, struct slot *sl, struct flow_outcome *o)
{
	const char *name = s->step->name;
	switch (o->kind) {
	case FO_BAD: {
		char why[600];
		snprintf(why, sizeof why, "%s: %s", s->step->kind == FK_JQ ? "jq" : s->model ? s->model->id : name,
		         o->why);
		flow_outcome_free(o);
		stage_failure(s, sl, "bad_response", why, s->step->kind != FK_JQ);
		return;
	}
	case FO_SUSPEND: {
		jv w = o->suspend;
		o->suspend = jv_null();
		flow_outcome_free(o);
		jv extra = jv_object();
		jv_object_foreach(w, k, v)
			extra = jv_object_set(extra, k, v);
		stage_note(s, 1, "run %s waits for a human at step %s: %s", sl->run, name,
		           json_str_or(w, "message", ""));
		stage_journal(s, sl, "suspended", jv_null(), jv_null(), w);
		stage_run_set(s, sl, "waiting_for_human", "running", name, jv_null());
		stage_emit_event(s, "waiting_for_human", sl, extra);
		sl->status = "waiting_for_human";
		stage_leave(s, sl);
		return;
	}
	default: {
		jv m = o->merge;
		o->merge = jv_null();
		char stop[sizeof o->why];
		int stopping = o->kind == FO_STOP;
		snprintf(stop, sizeof stop, "%s", o->why);
		flow_outcome_free(o);
		on_merge(s, sl, m, jv_null(), stopping ? stop : NULL);
	}
	}
}

/* Whether a call that failed with KIND may go better another time: not
 * one cancelled, nor one that its configuration fails (no key, a bad
 * model entry, an insecure endpoint) every time the same way. */
static int may_retry(const char *kind)
{
	static const char *const never[] = { "cancelled", "no_key", "config", "insecure", NULL };
	for (int i = 0; never[i]; i++)
		if (!strcmp(kind, never[i]))
			return 0;
	return 1;
}

void stage_failure(struct stage *s, struct slot *sl, const char *kind, const char *msg,
                   int retryable)
{
	const struct flow_step *st = s->step;
	char m[1024];
	snprintf(m, sizeof m, "%s", msg);
	stage_emit_event(s, "step_error", sl,
	                 json_set(json_set(jv_object(), "attempt", jv_number(sl->attempt)), "error",
	                          error_obj(kind, m)));
	if (retryable && sl->attempt <= st->retry) {
		double d = st->backoff * pow(2, sl->attempt - 1);
		if (d > 3600)
			d = 3600;
		int64_t ms = (int64_t)(d * 1000 + 0.5);
		stage_emit_event(s, "retrying", sl,
		                 json_set(json_set(json_set(jv_object(), "attempt",
		                                            jv_number(sl->attempt + 1)),
		                                   "delay_ms", jv_number((double)ms)),
		                          "error", error_obj(kind, m)));
		stage_note(s, 1, "run %s: step %s: %s: retry %d of %d in %.3g s", sl->run, st->name, m,
		           sl->attempt, st->retry, d);
		sl->phase = P_WAIT;
		sl->due = time_mono_ms() + ms;
		return;
	}
	if (jv_get_kind(st->fallback) == JV_KIND_OBJECT) {
		stage_note(s, 0, "run %s: step %s failed (%s): its fallback is merged", sl->run,
		           st->name, m);
		on_merge(s, sl, jv_copy(st->fallback), error_obj(kind, m), NULL);
		return;
	}
	jv e = json_set(error_obj(kind, m), "step", jv_string(st->name));
	stage_journal(s, sl, "failed", jv_null(), jv_copy(e), jv_null());
	stage_run_set(s, sl, "failed", "running", NULL, jv_copy(e));
	stage_emit_event(s, "failed", sl, json_set(jv_object(), "error", jv_copy(e)));
	stage_note(s, 0, "run %s failed at step %s: %s", sl->run, st->name, m);
	sl->failed_here = 1;
	sl->status = "failed";
	jv_free(sl->err);
	sl->err = e;
	sl->can_complete = 0;
	stage_forward(s, sl);
}

/* The score of scorer NAME from SL's finished call: a row and an event. */
static void take_score(struct stage *s, struct slot *sl, const char *name)
{
	char at[32];
	struct call *c = &sl->call;
	jv result = jv_null(), error = jv_null();
	double score = NAN;
	if (jv_get_kind(c->error) != JV_KIND_NULL) {
		error = jv_copy(c->error);
	} else {
		const char *t = jv_string_value(c->output);
		jv v = jv_parse_sized(t, jv_string_length_bytes(jv_copy(c->output)));
		jv sc = json_get(v, "score");
		if (jv_get_kind(v) == JV_KIND_OBJECT && jv_get_kind(sc) == JV_KIND_NUMBER) {
			score = jv_number_value(sc);
			result = jv_copy(v);
		} else {
			error = error_obj("bad_response", "expected {\"score\": NUMBER, ...}");
		}
		jv_free(sc);
		jv_free(v);
	}
	jv row = jv_object();
	row = json_set(row, "run_id", jv_string(sl->run));
	row = json_set(row, "step", jv_string(s->step->name));
	row = json_set(row, "scorer", jv_string(name));
	row = json_set(row, "score", isnan(score) ? jv_null() : jv_number(score));
	row = json_set(row, "result", jv_copy(result));
	row = json_set(row, "error", jv_copy(error));
	row = json_set(row, "at", jv_string(time_rfc3339(time_now_ms(), at)));
	stage_op(s, O_SCORE, row);
	jv extra = json_set(jv_object(), "scorer", jv_string(name));
	extra = json_set(extra, "score", isnan(score) ? jv_null() : jv_number(score));
	if (jv_get_kind(error) != JV_KIND_NULL) {
		stage_note(s, 0, "run %s: scorer %s of step %s failed: %s", sl->run, name,
		           s->step->name, json_str_or(error, "message", "?"));
		extra = json_set(extra, "error", jv_copy(error));
	}
	stage_emit_event(s, "scorer", sl, extra);
	jv_free(result);
	jv_free(error);
}

void stage_call_done(struct stage *s, struct slot *sl)
{
	const struct flow_step *st = s->step;
	struct call *c = &sl->call;
	if (sl->what == C_SCORER) {
		take_score(s, sl, st->scorers[sl->scorer].name);
		stage_call_clear(sl);
		sl->scorer++;
		next_scorer(s, sl);
		return;
	}
	int ok = jv_get_kind(c->error) == JV_KIND_NULL;
	if (st->kind == FK_LLM) {
		const char *links[CALL_LINKS] = { NULL, sl->run, st->name, NULL };
		if (call_log(s->cfg.db, c, links, 0) < 0)
			stage_note(s, 0, "call log: %s", err_msg());
		stage_llm_event(s, sl, ok ? "stop" : "exception");
		if (ok && st->stream && !sl->streamed) /* it did not stream: all at once */
			stage_stream_piece(sl, jv_string_value(c->output),
			                   (size_t)jv_string_length_bytes(jv_copy(c->output)));
		if (sl->streamed || (ok && st->stream)) {
			jv text = jv_get_kind(sl->stream_text) == JV_KIND_STRING ? jv_copy(sl->stream_text)
			          : ok ? jv_copy(c->output) : jv_string("");
			stage_emit_event(s, "stream_done", sl, json_set(jv_object(), "text", text));
		}
	}
	if (!ok) {
		char kind[64], msg[1024];
		snprintf(kind, sizeof kind, "%s", json_str_or(c->error, "kind", "error"));
		snprintf(msg, sizeof msg, "%s", json_str_or(c->error, "message", "failed"));
		stage_call_clear(sl);
		stage_failure(s, sl, kind, msg, may_retry(kind));
		return;
	}
	struct flow_outcome o;
	if (st->kind == FK_COMMAND) {
		flow_outcome_text(jv_string_value(c->output),
		                  (size_t)jv_string_length_bytes(jv_copy(c->output)), &o);
		stage_call_clear(sl);
		stage_outcome(s, sl, &o);
	} else if (st->kind == FK_LLM) {
		jv out = jv_copy(c->output);
		if (jv_get_kind(st->output_schema) == JV_KIND_OBJECT) {
			jv p = jv_parse(jv_string_value(out));
			if (jv_is_valid(p)) {
				jv_free(out);
				out = p;
			} else {
				jv_free(p);
			}
		}
		stage_call_clear(sl);
		o = (struct flow_outcome){ .kind = FO_MERGE, .merge = json_set(jv_object(), st->to, out),
			                   .suspend = jv_null() };
		stage_outcome(s, sl, &o);
	} else { /* FK_SCORE */
		take_score(s, sl, st->name);
		stage_call_clear(sl);
		o = (struct flow_outcome){ .kind = FO_MERGE, .merge = jv_object(), .suspend = jv_null() };
		stage_outcome(s, sl, &o);
	}
}

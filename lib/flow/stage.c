/* stage: the queue, the replay decision, the journal and the output of
 * one syn-step stage; see stage.h (and stagerun.c for a step's attempts).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/md5.h"
#include "base/timeutil.h"
#include "bus/bus.h"
#include "flow/context.h"
#include "flow/events.h"
#include "flow/peer.h"
#include "flow/replay.h"
#include "flow/stagei.h"
#include "json/json.h"
#include "model/engine.h"
#include "state/db.h"
#include "state/flow.h"

#define STOP_CHECK_MS 500
#define FULL_OPS 4000
#define FULL_OUT (1u << 20)

void stage_note(struct stage *s, int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (s->cfg.note)
		s->cfg.note(s->cfg.ctx, level, msg);
}

struct stage *stage_new(const struct stage_cfg *cfg)
{
	struct stage *s = calloc(1, sizeof *s);
	if (!s) {
		err_errno("stage");
		return NULL;
	}
	s->cfg = *cfg;
	s->step = cfg->step;
	s->events = jv_array();
	s->created = jv_object();
	s->downstream = cfg->last < 0 ? -1 : !cfg->last;
	s->qcap = s->step->jobs * 2 + 16;
	s->q = calloc((size_t)s->qcap, sizeof *s->q);
	if (!s->q || stage_models(s) < 0) {
		stage_free(s);
		return NULL;
	}
	return s;
}

void stage_free(struct stage *s)
{
	if (!s)
		return;
	for (int i = 0; s->q && i < s->qlen; i++) {
		struct slot *sl = &s->q[(s->qhead + i) % s->qcap];
		stage_call_cancel(s, sl);
		jv_free(sl->ctx);
		jv_free(sl->human);
		jv_free(sl->merge);
		jv_free(sl->err);
		jv_free(sl->sys);
		jv_free(sl->stream_text);
		free(sl->line);
	}
	for (int i = 0; i < s->nops; i++)
		jv_free(s->ops[i].v);
	stage_run_free(s);
	jv_free(s->events);
	jv_free(s->created);
	free(s->ops);
	free(s->q);
	free(s->out);
	free(s->seen);
	free(s->seen_n);
	free(s);
}

int stage_room(const struct stage *s)
{
	int busy = 0;
	for (int i = 0; i < s->qlen; i++)
		busy += s->q[(s->qhead + i) % s->qcap].phase != P_DONE;
	return s->qlen < s->qcap && busy < s->step->jobs;
}

int stage_busy(const struct stage *s)
{
	return s->qlen;
}

int stage_full(const struct stage *s)
{
	return s->nops >= FULL_OPS || s->outlen >= FULL_OUT;
}

long stage_failed(const struct stage *s)
{
	return s->failed;
}

void stage_op(struct stage *s, int kind, jv v)
{
	if (s->nops == s->opcap) {
		int cap = s->opcap ? s->opcap * 2 : 256;
		struct op *o = realloc(s->ops, (size_t)cap * sizeof *o);
		if (!o) { /* kept: the commit fails loudly rather than losing a row */
			jv_free(v);
			s->failed = -1;
			return;
		}
		s->ops = o;
		s->opcap = cap;
	}
	s->ops[s->nops].kind = kind;
	s->ops[s->nops++].v = v;
}

void stage_emit_event(struct stage *s, const char *event, struct slot *sl, jv extra)
{
	char topic[FLOW_TOPIC_MAX];
	int store = flow_event_stored(event);
	int publish = s->cfg.bus && bus_wants(s->cfg.bus, flow_topic(sl->run, topic));
	if (!store && !publish) {
		jv_free(extra);
		return;
	}
	jv d = flow_event(event, sl->run, s->step->name, extra);
	if (store)
		stage_op(s, O_EVENT, jv_copy(d));
	if (publish)
		s->events = jv_array_append(s->events, d);
	else
		jv_free(d);
}

void stage_journal(struct stage *s, struct slot *sl, const char *state, jv extra)
{
	char at[32];
	jv r = jv_object();
	r = json_set(r, "run_id", jv_string(sl->run));
	r = json_set(r, "step", jv_string(s->step->name));
	r = json_set(r, "seq", jv_number(sl->seq));
	r = json_set(r, "state", jv_string(state));
	r = json_set(r, "attempts", jv_number(sl->attempt));
	r = json_set(r, "started_at", jv_string(sl->started_at[0] ? sl->started_at
	                                        : time_rfc3339(time_now_ms(), at)));
	r = json_set(r, "finished_at", jv_string(time_rfc3339(time_now_ms(), at)));
	if (jv_get_kind(extra) == JV_KIND_OBJECT)
		jv_object_foreach(extra, k, v)
			r = jv_object_set(r, k, v);
	jv_free(extra);
	stage_op(s, O_STEP, r);
}

void stage_run_set(struct stage *s, struct slot *sl, const char *status, const char *only_if,
                   jv extra)
{
	char at[32];
	jv c = jv_object();
	c = json_set(c, "id", jv_string(sl->run));
	c = json_set(c, "status", jv_string(status));
	c = json_set(c, "updated_at", jv_string(time_rfc3339(time_now_ms(), at)));
	if (only_if)
		c = json_set(c, "only_if", jv_string(only_if));
	if (strcmp(status, "running") && strcmp(status, "waiting_for_human"))
		c = json_set(c, "finished_at", jv_string(at));
	if (jv_get_kind(extra) == JV_KIND_OBJECT)
		jv_object_foreach(extra, k, v)
			c = jv_object_set(c, k, v);
	jv_free(extra);
	stage_op(s, O_RUN_SET, c);
}

/* Whether this is the last stage, found out once (peer.h). */
static int is_last(struct stage *s)
{
	if (s->downstream < 0) {
		struct flow_peers p;
		if (flow_peers_scan(NULL, 1000, &p) < 0) {
			stage_note(s, 0, "%s (taking this stage as the last)", err_msg());
			p.downstream = 0;
		}
		s->downstream = p.downstream > 0;
		stage_note(s, 1, "%s", s->downstream ? "a stage reads this one's output"
		                                     : "the last stage: runs complete here");
	}
	return s->downstream == 0;
}

static void set_line(struct slot *sl, jv rec)
{
	size_t n;
	char *text = json_dump(rec, &n);
	jv_free(rec);
	if (text) {
		char *line = realloc(text, n + 2);
		if (line) {
			line[n] = '\n';
			line[n + 1] = 0;
			sl->line = line;
			sl->linelen = n + 1;
			return;
		}
		free(text);
	}
}

void stage_forward(struct stage *s, struct slot *sl)
{
	if (sl->can_complete && !strcmp(sl->status, "running") && is_last(s)) {
		stage_run_set(s, sl, "completed", "running", jv_null());
		stage_emit_event(s, "completed", sl, jv_null());
		sl->status = "completed";
	}
	jv rec = json_set(jv_copy(sl->ctx), "_run", jv_string(sl->run));
	if (!strcmp(sl->status, "failed") || !strcmp(sl->status, "stopped"))
		rec = json_set(rec, "_status", jv_string(sl->status));
	if (jv_get_kind(sl->err) == JV_KIND_OBJECT)
		rec = json_set(rec, "_error", jv_copy(sl->err));
	set_line(sl, rec);
	sl->phase = P_DONE;
}

void stage_leave(struct stage *s, struct slot *sl)
{
	(void)s;
	sl->phase = P_DONE;
}

/* Writes out the records at the head of the queue that are done. */
static void drain(struct stage *s)
{
	while (s->qlen && s->q[s->qhead].phase == P_DONE) {
		struct slot *sl = &s->q[s->qhead];
		if (sl->line) {
			if (s->outlen + sl->linelen > s->outcap) {
				size_t cap = s->outcap ? s->outcap : 65536;
				while (cap < s->outlen + sl->linelen)
					cap *= 2;
				char *o = realloc(s->out, cap);
				if (o) {
					s->out = o;
					s->outcap = cap;
				}
			}
			if (s->outlen + sl->linelen <= s->outcap) {
				memcpy(s->out + s->outlen, sl->line, sl->linelen);
				s->outlen += sl->linelen;
			}
			free(sl->line);
		}
		jv_free(sl->ctx);
		jv_free(sl->human);
		jv_free(sl->merge);
		jv_free(sl->err);
		jv_free(sl->sys);
		jv_free(sl->stream_text);
		memset(sl, 0, sizeof *sl);
		s->qhead = (s->qhead + 1) % s->qcap;
		s->qlen--;
	}
}

/* How many records of the 64-bit hash H came before, counting this one. */
static uint32_t occurrence(struct stage *s, uint64_t h)
{
	if (h == 0)
		h = 1; /* 0 marks an empty place */
	if (s->seen_len * 2 >= s->seen_cap) {
		size_t cap = s->seen_cap ? s->seen_cap * 2 : 1024;
		uint64_t *k = calloc(cap, sizeof *k);
		uint32_t *n = calloc(cap, sizeof *n);
		if (!k || !n) {
			free(k);
			free(n);
			return 1;
		}
		for (size_t i = 0; i < s->seen_cap; i++) {
			if (!s->seen[i])
				continue;
			size_t j = s->seen[i] & (cap - 1);
			while (k[j])
				j = (j + 1) & (cap - 1);
			k[j] = s->seen[i];
			n[j] = s->seen_n[i];
		}
		free(s->seen);
		free(s->seen_n);
		s->seen = k;
		s->seen_n = n;
		s->seen_cap = cap;
	}
	size_t j = h & (s->seen_cap - 1);
	while (s->seen[j] && s->seen[j] != h)
		j = (j + 1) & (s->seen_cap - 1);
	if (!s->seen[j]) {
		s->seen[j] = h;
		s->seen_len++;
	}
	return ++s->seen_n[j];
}

/* The run key of a record without _run: KEY (its _key) or its bytes. */
static jv run_key(struct stage *s, jv ctx, jv key, const char *raw, size_t rawlen)
{
	const char *scope = s->cfg.workflow_file ? s->cfg.workflow_file
	                    : s->cfg.workflow ? s->cfg.workflow : "";
	if (jv_get_kind(key) == JV_KIND_STRING)
		return jv_string_fmt("%s\n_key:%s", scope, jv_string_value(key));
	char hex[33];
	size_t n = rawlen;
	char *dump = NULL;
	if (!raw)
		raw = dump = json_dump(ctx, &n);
	md5_hex2(raw ? raw : "", raw ? n : 0, NULL, 0, hex);
	free(dump);
	char h16[17];
	memcpy(h16, hex, 16);
	h16[16] = 0;
	uint32_t nth = occurrence(s, strtoull(h16, NULL, 16));
	return jv_string_fmt("%s\n%s#%u", scope, hex, nth);
}

/* A new run for CTX (borrowed) under KEY (borrowed): its view. */
static jv create(struct stage *s, jv ctx, jv key, char id[static ID_LEN + 1])
{
	char at[32];
	id_new(id);
	time_rfc3339(time_now_ms(), at);
	jv r = jv_object();
	r = json_set(r, "id", jv_string(id));
	r = json_set(r, "workflow", s->cfg.workflow ? jv_string(s->cfg.workflow) : jv_null());
	r = json_set(r, "workflow_file",
	             s->cfg.workflow_file ? jv_string(s->cfg.workflow_file) : jv_null());
	r = json_set(r, "run_key", jv_copy(key));
	r = json_set(r, "status", jv_string("running"));
	r = json_set(r, "input", jv_copy(ctx));
	r = json_set(r, "started_at", jv_string(at));
	r = json_set(r, "updated_at", jv_string(at));
	stage_op(s, O_RUN_INSERT, r);
	s->created = jv_object_set(s->created, jv_copy(key), jv_true());
	jv v = jv_object();
	v = json_set(v, "id", jv_string(id));
	v = json_set(v, "status", jv_string("running"));
	v = json_set(v, "nsteps", jv_number(0));
	v = json_set(v, "skipping", jv_number(0));
	return v;
}

static const char *status_of(jv view)
{
	static const char *const known[] = { "running", "waiting_for_human", "completed",
		                             "failed", "stopped" };
	const char *st = json_str(view, "status", NULL);
	for (int i = 0; st && i < 5; i++)
		if (!strcmp(st, known[i]))
			return known[i];
	return "running";
}

static int num(jv o, const char *key)
{
	jv v = json_get(o, key);
	int n = jv_get_kind(v) == JV_KIND_NUMBER ? (int)jv_number_value(v) : 0;
	jv_free(v);
	return n;
}

/* Acts on the run of VIEW (consumed) at this step, with SL's context. */
static void act(struct stage *s, struct slot *sl, jv view)
{
	const char *state = json_str(view, "state", NULL);
	const char *at = json_str(view, "at_step", NULL);
	struct flow_seen seen = {
		.status = sl->status,
		.state = state,
		.skipping = num(view, "skipping"),
		.is_at = at && !strcmp(at, s->step->name),
	};
	enum flow_action a = flow_decide(&seen);
	sl->seq = state ? num(view, "seq") : num(view, "nsteps");
	stage_note(s, 2, "run %s: %s", sl->run, flow_action_name(a));
	switch (a) {
	case FA_REPLAY: {
		jv res = json_get(view, "result");
		if (jv_get_kind(res) == JV_KIND_OBJECT)
			sl->ctx = flow_merge(sl->ctx, res);
		else
			jv_free(res);
		sl->can_complete = 1;
		stage_forward(s, sl);
		break;
	}
	case FA_SKIP:
		stage_journal(s, sl, "skipped", json_set(jv_object(), "result", jv_object()));
		sl->can_complete = 1;
		stage_forward(s, sl);
		break;
	case FA_PASS: {
		jv err = json_get(view, "run_error");
		if (jv_get_kind(err) == JV_KIND_OBJECT && !strcmp(sl->status, "failed"))
			sl->err = err;
		else
			jv_free(err);
		stage_forward(s, sl);
		break;
	}
	case FA_HOLD:
		stage_note(s, 1, "run %s waits for a human%s%s: held", sl->run,
		           json_str(view, "waiting_step", NULL) ? " at " : "",
		           json_str_or(view, "waiting_step", ""));
		stage_leave(s, sl);
		break;
	case FA_RUN:
		if (state && !strcmp(state, "resumed"))
			sl->human = json_get(view, "human_input");
		if (strcmp(sl->status, "running")) {
			stage_run_set(s, sl, "running", sl->status, json_set(jv_object(), "error", jv_null()));
			sl->status = "running";
		}
		sl->can_complete = 1;
		time_rfc3339(time_now_ms(), sl->started_at);
		stage_attempt(s, sl);
		break;
	}
	jv_free(view);
}

static int reject(jv ctx, jv run, jv key, char *why, size_t size, const char *fmt,
                  const char *arg)
{
	snprintf(why, size, fmt, arg);
	jv_free(ctx);
	jv_free(run);
	jv_free(key);
	return -1;
}

int stage_take(struct stage *s, jv rec, const char *raw, size_t rawlen, char *why, size_t size)
{
	if (!s->scanned) {
		s->scanned = 1;
		struct flow_peers p;
		if (flow_peers_scan(s->step->name, 0, &p) == 0) {
			if (p.dup) {
				jv_free(rec);
				return err_set("step name '%s' is used twice in this workflow (also pid %d)",
				               s->step->name, (int)p.dup), -2;
			}
			if (s->downstream < 0 && p.downstream >= 0)
				s->downstream = p.downstream;
		}
	}
	jv run, key;
	jv ctx = flow_split(rec, &run, &key);
	jv view;
	char id[ID_LEN + 1];
	int fresh = 0;
	if (jv_is_valid(run)) {
		if (jv_get_kind(run) != JV_KIND_STRING)
			return reject(ctx, run, key, why, size, "\"_run\" must be a run id (a string)%s", "");
		const char *r = jv_string_value(run);
		if (strlen(r) != ID_LEN)
			return reject(ctx, run, key, why, size, "unknown run '%.80s'", r);
		memcpy(id, r, ID_LEN + 1);
		view = db_flow_view(s->cfg.db, id, s->step->name);
		if (!jv_is_valid(view)) {
			jv_free(ctx), jv_free(run), jv_free(key);
			return -2;
		}
		if (jv_get_kind(view) == JV_KIND_NULL)
			return reject(ctx, run, key, why, size, "unknown run '%s'", id);
		const char *wf = json_str(view, "workflow_file", NULL);
		if (wf && s->cfg.workflow_file && strcmp(wf, s->cfg.workflow_file)) {
			snprintf(why, size, "run %s belongs to workflow %s, not %s (drop \"_run\" to start a new run)",
			         id, wf, s->cfg.workflow_file);
			jv_free(view);
			return reject(ctx, run, key, why, 0, "%s", "");
		}
	} else {
		if (jv_is_valid(key) && jv_get_kind(key) != JV_KIND_STRING)
			return reject(ctx, run, key, why, size, "\"_key\" must be a string%s", "");
		jv k = run_key(s, ctx, key, jv_is_valid(key) ? NULL : raw, rawlen);
		if (json_has(s->created, jv_string_value(k))) {
			jv_free(k);
			return reject(ctx, run, key, why, size,
			              "a run of this \"_key\" is already in the pipeline%s", "");
		}
		jv found = db_flow_run_by_key(s->cfg.db, jv_string_value(k));
		if (!jv_is_valid(found)) {
			jv_free(k), jv_free(ctx), jv_free(run), jv_free(key);
			return -2;
		}
		if (jv_get_kind(found) == JV_KIND_STRING) {
			snprintf(id, sizeof id, "%s", jv_string_value(found));
			view = db_flow_view(s->cfg.db, id, s->step->name);
			if (!jv_is_valid(view) || jv_get_kind(view) != JV_KIND_OBJECT) {
				jv_free(view), jv_free(found), jv_free(k), jv_free(ctx), jv_free(run), jv_free(key);
				return jv_is_valid(view) ? (err_set("run %s vanished", id), -2) : -2;
			}
			stage_note(s, 1, "run %s: found by its key", id);
		} else {
			view = create(s, ctx, k, id);
			fresh = 1;
		}
		jv_free(found);
		jv_free(k);
	}
	jv_free(run);
	jv_free(key);
	struct slot *sl = &s->q[(s->qhead + s->qlen) % s->qcap];
	s->qlen++;
	memset(sl, 0, sizeof *sl);
	memcpy(sl->run, id, ID_LEN + 1);
	sl->ctx = ctx;
	sl->human = sl->merge = sl->err = sl->stream_text = sl->sys = jv_null();
	sl->st = s;
	sl->status = status_of(view);
	if (fresh)
		stage_emit_event(s, "started", sl,
		                 s->cfg.workflow ? json_set(jv_object(), "workflow",
		                                            jv_string(s->cfg.workflow))
		                                 : jv_null());
	act(s, sl, view);
	drain(s);
	return 0;
}

int stage_work(struct stage *s)
{
	int64_t now = time_mono_ms(), wait = -1;
	for (int i = 0; i < s->qlen; i++) {
		struct slot *sl = &s->q[(s->qhead + i) % s->qcap];
		if (sl->phase == P_CALL && sl->call.done) {
			stage_call_done(s, sl);
		} else if (sl->phase == P_WAIT && now >= sl->due) {
			stage_attempt(s, sl);
		}
		if (sl->phase != P_DONE && now >= sl->stop_check) {
			sl->stop_check = now + STOP_CHECK_MS;
			jv v = db_flow_view(s->cfg.db, sl->run, s->step->name);
			if (!jv_is_valid(v))
				return -2;
			if (!strcmp(json_str_or(v, "status", ""), "stopped")) {
				stage_note(s, 0, "run %s was stopped: step %s abandoned", sl->run,
				           s->step->name);
				stage_call_cancel(s, sl);
				sl->status = "stopped";
				sl->can_complete = 0;
				stage_forward(s, sl);
			}
			jv_free(v);
		}
		if (sl->phase == P_WAIT) {
			int64_t d = sl->due - now;
			if (wait < 0 || d < wait)
				wait = d < 0 ? 0 : d;
		}
		if (sl->phase != P_DONE) {
			int64_t d = sl->stop_check - now;
			if (wait < 0 || d < wait)
				wait = d < 0 ? 0 : d;
		}
	}
	drain(s);
	if (s->failed < 0)
		return err_set("out of memory"), -2;
	return (int)wait;
}

int stage_commit(struct stage *s)
{
	if (!s->nops)
		return 0;
	if (s->failed < 0)
		return err_set("out of memory");
	if (db_begin(s->cfg.db) < 0)
		return -1;
	for (int i = 0; i < s->nops; i++) {
		jv v = s->ops[i].v;
		int rc;
		switch (s->ops[i].kind) {
		case O_RUN_INSERT: rc = db_flow_run_insert(s->cfg.db, v); break;
		case O_STEP: rc = db_flow_step_put(s->cfg.db, v); break;
		case O_RUN_SET: rc = db_flow_run_set(s->cfg.db, v); break;
		case O_EVENT: rc = flow_event_store(s->cfg.db, v); break;
		default: rc = db_flow_score_put(s->cfg.db, v); break;
		}
		if (rc < 0) {
			db_rollback(s->cfg.db);
			return -1;
		}
	}
	if (db_commit(s->cfg.db) < 0)
		return -1;
	for (int i = 0; i < s->nops; i++)
		jv_free(s->ops[i].v);
	s->nops = 0;
	jv_free(s->created);
	s->created = jv_object();
	return 0;
}

const char *stage_output(const struct stage *s, size_t *n)
{
	*n = s->outlen;
	return s->out;
}

void stage_output_clear(struct stage *s)
{
	s->outlen = 0;
	if (s->outcap > 4 * FULL_OUT) {
		free(s->out);
		s->out = NULL;
		s->outcap = 0;
	}
}

void stage_publish(struct stage *s)
{
	int n = jv_array_length(jv_copy(s->events));
	for (int i = 0; i < n; i++) {
		jv d = jv_array_get(jv_copy(s->events), i);
		flow_event_publish(s->cfg.bus, s->cfg.db, d);
		jv_free(d);
	}
	jv_free(s->events);
	s->events = jv_array();
}

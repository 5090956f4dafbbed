/* stage: the queue and the replay decision of one syn-step stage; see
 * stage.h. stagekey.c makes run keys, stagedb.c holds the batch for the
 * next commit, stagerun.c runs a step's attempts and stageout.c takes
 * their outcome.
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
#define FULL_OPS 8000
#define FULL_OUT (1u << 20)

void stage_note(struct stage *s, int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	if (level > s->cfg.verbose || !s->cfg.note)
		return;
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
	s->downstream = cfg->last < 0 ? -1 : !cfg->last;
	/* syn-run says what the steps are: no need to look at /proc */
	int seen = 0;
	const char *lastname = NULL;
	size_t len = strlen(s->step->name);
	for (const char *p = cfg->steps; p && *p;) {
		const char *e = strchr(p, ' ');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == len && !memcmp(p, s->step->name, n))
			seen++;
		lastname = p;
		p = e ? e + 1 : p + n;
	}
	if (seen) {
		s->scanned = 1;
		s->dup_named = seen > 1;
		if (s->downstream < 0)
			s->downstream = !(lastname && !strcmp(lastname, s->step->name));
	}
	s->qcap = s->step->jobs * 2 + 16;
	s->q = calloc((size_t)s->qcap, sizeof *s->q);
	s->mem = open_memstream(&s->membuf, &s->memlen);
	if (cfg->db)
		db_flow_tune(cfg->db);
	if (!s->q || !s->mem || stage_models(s) < 0) {
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
		free(sl->text);
	}
	for (int i = 0; i < s->nops; i++)
		jv_free(s->ops[i].v);
	while (s->arena) {
		struct chunk *c = s->arena;
		s->arena = c->next;
		free(c);
	}
	if (s->mem)
		fclose(s->mem);
	free(s->membuf);
	stage_run_free(s);
	jv_free(s->events);
	free(s->made);
	free(s->ops);
	free(s->q);
	free(s->out);
	free(s->bloom);
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

void stage_forward(struct stage *s, struct slot *sl)
{
	if (sl->can_complete && !strcmp(sl->status, "running") && is_last(s)) {
		stage_run_set(s, sl, "completed", "running", NULL, jv_null());
		stage_emit_event(s, "completed", sl, jv_null());
		sl->status = "completed";
	}
	int ended = !strcmp(sl->status, "failed") || !strcmp(sl->status, "stopped");
	/* counted where it failed, and by the last stage, whose status is
	 * the workflow's: a run that did not complete makes both exit 1 */
	if (ended && (sl->failed_here || is_last(s)))
		s->failed++;
	if (ended || !sl->text) {
		free(sl->text);
		jv rec = jv_copy(sl->ctx);
		if (ended)
			rec = json_set(rec, "_status", jv_string(sl->status));
		if (jv_get_kind(sl->err) == JV_KIND_OBJECT)
			rec = json_set(rec, "_error", jv_copy(sl->err));
		sl->text = stage_dump(s, rec, &sl->textlen);
		jv_free(rec);
	}
	/* {...} becomes {...,"_run":"ID"} and a newline */
	size_t n = sl->textlen;
	char *line = sl->text ? malloc(n + ID_LEN + 16) : NULL;
	if (line && n >= 2) {
		char *p = line + n - 1;
		memcpy(line, sl->text, n - 1);
		if (n > 2)
			*p++ = ',';
		memcpy(p, "\"_run\":\"", 8);
		memcpy(p + 8, sl->run, ID_LEN);
		memcpy(p + 8 + ID_LEN, "\"}\n", 3);
		sl->line = line;
		sl->linelen = (size_t)(p + 11 + ID_LEN - line);
	} else {
		free(line);
		s->failed = -1;
	}
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
		free(sl->text);
		memset(sl, 0, sizeof *sl);
		s->qhead = (s->qhead + 1) % s->qcap;
		s->qlen--;
	}
}

/* A new run for CTX (borrowed; TEXT, N bytes, its compact JSON, or NULL)
 * under KEY. */
static void create(struct stage *s, jv ctx, const char *text, size_t n, int64_t key,
                   char id[static ID_LEN + 1])
{
	char at[32];
	id_new(id);
	time_rfc3339(time_now_ms(), at);
	struct op *o = stage_new_op(s, O_RUN_INSERT);
	if (!o)
		return;
	struct db_flow_run *r = &o->u.run;
	r->id = stage_keep(s, id);
	r->workflow = s->cfg.workflow;
	r->workflow_file = s->cfg.workflow_file;
	r->run_key = s->cfg.fresh ? 0 : key;
	r->status = "running";
	r->input = text ? stage_keepn(s, text, n) : stage_keep_json(s, jv_copy(ctx));
	r->started_at = r->updated_at = stage_keep(s, at);
	if (stage_made(s, key, 1) < 0)
		s->failed = -1;
}

static const char *status_of(const char *st)
{
	static const char *const known[] = { "running", "waiting_for_human", "completed",
		                             "failed", "stopped" };
	for (int i = 0; i < 5; i++)
		if (!strcmp(st, known[i]))
			return known[i];
	return "running";
}

static jv parse_or_null(const char *text)
{
	if (!text)
		return jv_null();
	jv v = json_parse(text, strlen(text));
	if (!jv_is_valid(v)) {
		jv_free(v);
		return jv_null();
	}
	return v;
}

/* Reads run ID at this step into V: inside the batch's snapshot when it
 * agrees with what the record says (STATUS, its _status, or NULL), else
 * afresh: an upstream stage commits before it writes a record, but the
 * snapshot may be older than that commit. 1, 0 (no such run) or -1. */
static int view(struct stage *s, const char *id, const char *status, struct db_flow_view *v)
{
	if (db_flow_read_begin(s->cfg.db) < 0)
		return -1;
	int rc = db_flow_view(s->cfg.db, id, s->step->name, v);
	int trusted = rc > 0 && (status ? !strcmp(v->status, status)
	                                : !strcmp(v->status, "running") &&
	                                          strcmp(v->state, "suspended"));
	if (rc < 0 || trusted)
		return rc;
	db_flow_view_free(v);
	db_flow_read_end(s->cfg.db);
	if (db_flow_read_begin(s->cfg.db) < 0)
		return -1;
	return db_flow_view(s->cfg.db, id, s->step->name, v);
}

/* Acts on the run of V at this step, with SL's context. */
static void act(struct stage *s, struct slot *sl, struct db_flow_view *v)
{
	const char *state = v->state[0] ? v->state : NULL;
	struct flow_seen seen = {
		.status = sl->status,
		.state = state,
		.skipping = v->skipping,
		.is_at = v->at_step && !strcmp(v->at_step, s->step->name),
	};
	enum flow_action a = flow_decide(&seen);
	stage_note(s, 2, "run %s: %s", sl->run, flow_action_name(a));
	switch (a) {
	case FA_REPLAY: {
		jv res = parse_or_null(v->result);
		if (jv_get_kind(res) == JV_KIND_OBJECT && jv_object_length(jv_copy(res))) {
			sl->ctx = flow_merge(sl->ctx, res);
			free(sl->text);
			sl->text = NULL;
		} else {
			jv_free(res);
		}
		sl->can_complete = 1;
		stage_forward(s, sl);
		break;
	}
	case FA_SKIP:
		stage_journal(s, sl, "skipped", jv_object(), jv_null(), jv_null());
		sl->can_complete = 1;
		stage_forward(s, sl);
		break;
	case FA_PASS: {
		jv err = parse_or_null(v->run_error);
		if (jv_get_kind(err) == JV_KIND_OBJECT && !strcmp(sl->status, "failed"))
			sl->err = err;
		else
			jv_free(err);
		stage_forward(s, sl);
		break;
	}
	case FA_HOLD:
		stage_note(s, 1, "run %s waits for a human%s%s: held", sl->run,
		           v->waiting_step ? " at " : "", v->waiting_step ? v->waiting_step : "");
		stage_leave(s, sl);
		break;
	case FA_RUN:
		if (state && !strcmp(state, "resumed"))
			sl->human = parse_or_null(v->human_input);
		if (strcmp(sl->status, "running")) {
			stage_run_set(s, sl, "running", sl->status, NULL, jv_null());
			sl->status = "running";
		}
		sl->can_complete = 1;
		time_rfc3339(time_now_ms(), sl->started_at);
		stage_attempt(s, sl);
		break;
	}
}

static int reject(jv ctx, char *why, size_t size, const char *fmt, const char *arg)
{
	if (size)
		snprintf(why, size, fmt, arg);
	jv_free(ctx);
	return -1;
}

int stage_take(struct stage *s, jv rec, const char *raw, size_t rawlen, char *why, size_t size)
{
	if (s->dup_named) {
		jv_free(rec);
		return err_set("step name '%s' is used twice in this workflow", s->step->name), -2;
	}
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
	unsigned mask = flow_owned(rec);
	jv run = jv_invalid(), key = jv_invalid(), ctx = rec;
	char said[24] = ""; /* the record's _status */
	if (mask & FLOW_OWN_STATUS) {
		jv st = json_get(rec, "_status");
		if (jv_get_kind(st) == JV_KIND_STRING)
			snprintf(said, sizeof said, "%s", jv_string_value(st));
		jv_free(st);
	}
	if (mask)
		ctx = flow_split(rec, mask, &run, &key);
	struct db_flow_view v;
	char id[ID_LEN + 1];
	int fresh = 0, rc;
	const char *text = mask ? NULL : raw;
	if (jv_is_valid(run)) {
		jv_free(key);
		if (jv_get_kind(run) != JV_KIND_STRING) {
			jv_free(run);
			return reject(ctx, why, size, "\"_run\" must be a run id (a string)%s", "");
		}
		snprintf(id, sizeof id, "%s", jv_string_value(run));
		int known = strlen(jv_string_value(run)) == ID_LEN;
		if (!known) {
			snprintf(why, size, "unknown run '%.80s'", jv_string_value(run));
			jv_free(run);
			return reject(ctx, why, 0, "", "");
		}
		jv_free(run);
		rc = view(s, id, said[0] ? said : NULL, &v);
		if (rc < 0) {
			jv_free(ctx);
			return -2;
		}
		if (rc == 0)
			return reject(ctx, why, size, "unknown run '%s'", id);
		if (v.workflow_file && s->cfg.workflow_file && strcmp(v.workflow_file, s->cfg.workflow_file)) {
			snprintf(why, size, "run %s belongs to workflow %s, not %s (drop \"_run\" to start a new run)",
			         id, v.workflow_file, s->cfg.workflow_file);
			db_flow_view_free(&v);
			return reject(ctx, why, 0, "", "");
		}
	} else {
		jv_free(run);
		if (jv_is_valid(key) && jv_get_kind(key) != JV_KIND_STRING) {
			jv_free(key);
			return reject(ctx, why, size, "\"_key\" must be a string%s", "");
		}
		int64_t k = stage_run_key(s, ctx, key, text, rawlen);
		jv_free(key);
		if (stage_made(s, k, 0))
			return reject(ctx, why, size, "a run of this \"_key\" is already in the pipeline%s", "");
		rc = s->cfg.fresh ? 0
		     : db_flow_read_begin(s->cfg.db) < 0 ? -1 : db_flow_run_by_key(s->cfg.db, k, id);
		if (rc > 0)
			rc = view(s, id, NULL, &v);
		if (rc < 0) {
			jv_free(ctx);
			return -2;
		}
		if (rc > 0) {
			stage_note(s, 1, "run %s: found by its key", id);
		} else {
			create(s, ctx, text, rawlen, k, id);
			memset(&v, 0, sizeof v);
			strcpy(v.status, "running");
			fresh = 1;
		}
	}
	struct slot *sl = &s->q[(s->qhead + s->qlen) % s->qcap];
	s->qlen++;
	memset(sl, 0, sizeof *sl);
	memcpy(sl->run, id, ID_LEN + 1);
	sl->ctx = ctx;
	sl->human = sl->merge = sl->err = sl->stream_text = sl->sys = jv_null();
	sl->st = s;
	sl->status = status_of(v.status);
	/* The context's text, when the record's own bytes give it: the record
	 * as read, or (as a stage writes it) less its last field "_run". */
	size_t tail = sizeof ",\"_run\":\"\"}" - 1 + ID_LEN;
	if (mask == FLOW_OWN_RUN && raw && rawlen > tail && !memcmp(raw + rawlen - tail, ",\"_run\":\"", 9) &&
	    !memcmp(raw + rawlen - 2 - ID_LEN, id, ID_LEN) && raw[rawlen - 1] == '}') {
		text = raw;
		rawlen -= tail - 1;
	}
	if (text && rawlen >= 2 && text[0] == '{' && (sl->text = malloc(rawlen + 1))) {
		memcpy(sl->text, text, rawlen);
		sl->text[rawlen - 1] = '}';
		sl->text[rawlen] = 0;
		sl->textlen = rawlen;
	}
	if (fresh)
		stage_emit_event(s, "started", sl,
		                 s->cfg.workflow ? json_set(jv_object(), "workflow",
		                                            jv_string(s->cfg.workflow))
		                                 : jv_null());
	act(s, sl, &v);
	db_flow_view_free(&v);
	drain(s);
	return 0;
}

int stage_work(struct stage *s)
{
	int64_t now = time_mono_ms(), wait = -1;
	/* A call may finish as it starts (a program that cannot be spawned, a
	 * dummy model): go round until nothing moves. */
	for (int moved = 1; moved;) {
		moved = 0;
		for (int i = 0; i < s->qlen; i++) {
			struct slot *sl = &s->q[(s->qhead + i) % s->qcap];
			if (sl->phase == P_CALL && sl->call.done) {
				stage_call_done(s, sl);
				moved = 1;
			} else if (sl->phase == P_WAIT && now >= sl->due) {
				stage_attempt(s, sl);
				moved = 1;
			}
		}
	}
	for (int i = 0; i < s->qlen; i++) {
		struct slot *sl = &s->q[(s->qhead + i) % s->qcap];
		if (sl->phase != P_DONE && now >= sl->stop_check) {
			sl->stop_check = now + STOP_CHECK_MS;
			db_flow_read_end(s->cfg.db); /* a fresh look */
			struct db_flow_view v;
			if (db_flow_view(s->cfg.db, sl->run, s->step->name, &v) < 0)
				return -2;
			if (!strcmp(v.status, "stopped")) {
				stage_note(s, 0, "run %s was stopped: step %s abandoned", sl->run,
				           s->step->name);
				stage_call_cancel(s, sl);
				sl->status = "stopped";
				sl->can_complete = 0;
				stage_forward(s, sl);
			}
			db_flow_view_free(&v);
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

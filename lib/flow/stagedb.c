/* stagedb: what a stage holds for its next commit, and the commit: the
 * batch's arena of strings, its writes (runs, journal rows, run changes,
 * events, scores), the events to publish and the records to write once it
 * is committed; see stage.h and stagei.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/timeutil.h"
#include "bus/bus.h"
#include "flow/events.h"
#include "flow/stagei.h"
#include "json/json.h"
#include "state/db.h"
#include "state/flow.h"

#define FULL_OUT (1u << 20)

const char *stage_keep(struct stage *s, const char *str)
{
	return str ? stage_keepn(s, str, strlen(str)) : NULL;
}

const char *stage_keepn(struct stage *s, const char *str, size_t len)
{
	size_t n = len + 1;
	struct chunk *c = s->arena;
	if (!c || c->used + n > c->size) {
		size_t size = n > 65536 ? n : 65536;
		struct chunk *k = malloc(sizeof *k + size);
		if (!k) {
			s->failed = -1;
			return NULL;
		}
		k->next = c;
		k->used = 0;
		k->size = size;
		s->arena = c = k;
	}
	char *p = c->data + c->used;
	memcpy(p, str, len);
	p[len] = 0;
	c->used += n;
	return p;
}

/* Dumps V (borrowed) into the stage's buffer: valid until the next dump. */
static const char *dump_tmp(struct stage *s, jv v, size_t *n)
{
	rewind(s->mem);
	json_put(s->mem, v);
	putc(0, s->mem);
	fflush(s->mem);
	*n = (size_t)ftell(s->mem) - 1;
	return s->membuf;
}

const char *stage_keep_json(struct stage *s, jv v)
{
	if (!jv_is_valid(v) || jv_get_kind(v) == JV_KIND_NULL) {
		jv_free(v);
		return NULL;
	}
	size_t n;
	const char *t = stage_keep(s, dump_tmp(s, v, &n));
	jv_free(v);
	return t;
}

char *stage_dump(struct stage *s, jv v, size_t *n)
{
	const char *t = dump_tmp(s, v, n);
	char *c = malloc(*n + 1);
	if (c)
		memcpy(c, t, *n + 1);
	return c;
}

struct op *stage_new_op(struct stage *s, int kind)
{
	if (s->nops == s->opcap) {
		int cap = s->opcap ? s->opcap * 2 : 256;
		struct op *o = realloc(s->ops, (size_t)cap * sizeof *o);
		if (!o) {
			s->failed = -1; /* the commit fails loudly rather than lose a row */
			return NULL;
		}
		s->ops = o;
		s->opcap = cap;
	}
	struct op *o = &s->ops[s->nops++];
	memset(o, 0, sizeof *o);
	o->kind = kind;
	o->v = jv_null();
	return o;
}

void stage_op(struct stage *s, int kind, jv v)
{
	struct op *o = stage_new_op(s, kind);
	if (o)
		o->v = v;
	else
		jv_free(v);
}

int stage_wants_event(struct stage *s, const char *event, struct slot *sl)
{
	char topic[FLOW_TOPIC_MAX];
	return flow_event_stored(event) ||
	       (s->cfg.bus && bus_wants(s->cfg.bus, flow_topic(sl->run, topic)));
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

struct db_flow_step *stage_journal(struct stage *s, struct slot *sl, const char *state, jv result,
                                   jv error, jv waiting)
{
	char at[32];
	struct op *o = stage_new_op(s, O_STEP);
	if (!o) {
		jv_free(result), jv_free(error), jv_free(waiting);
		return NULL;
	}
	struct db_flow_step *r = &o->u.step;
	r->run_id = stage_keep(s, sl->run);
	r->step = s->step->name;
	r->state = state;
	r->attempts = sl->attempt;
	r->result = stage_keep_json(s, result);
	r->error = stage_keep_json(s, error);
	r->waiting = stage_keep_json(s, waiting);
	time_rfc3339(time_now_ms(), at);
	r->started_at = stage_keep(s, sl->started_at[0] ? sl->started_at : at);
	r->finished_at = stage_keep(s, at);
	return r;
}

void stage_run_set(struct stage *s, struct slot *sl, const char *status, const char *only_if,
                   const char *waiting_step, jv error)
{
	char at[32];
	struct op *o = stage_new_op(s, O_RUN_SET);
	if (!o) {
		jv_free(error);
		return;
	}
	struct db_flow_set *c = &o->u.set;
	time_rfc3339(time_now_ms(), at);
	c->id = stage_keep(s, sl->run);
	c->status = status;
	c->only_if = only_if;
	c->waiting_step = waiting_step;
	c->error = stage_keep_json(s, error);
	c->updated_at = stage_keep(s, at);
	if (strcmp(status, "running") && strcmp(status, "waiting_for_human"))
		c->finished_at = c->updated_at;
}

static int by_key(const void *a, const void *b)
{
	int64_t x = (*(struct op *const *)a)->u.run.run_key, y = (*(struct op *const *)b)->u.run.run_key;
	return x < y ? -1 : x > y;
}

int stage_commit(struct stage *s)
{
	db_flow_read_end(s->cfg.db);
	if (!s->nops)
		return 0;
	if (s->failed < 0)
		return err_set("out of memory");
	if (db_begin(s->cfg.db) < 0)
		return -1;
	/* The new runs first, in the order of their keys: random keys in
	 * input order would have each insert look for its page in the key
	 * index anew; in key order they walk it once. Nothing else of the
	 * batch comes before a run's insert. */
	struct op **runs = NULL;
	int nruns = 0;
	for (int i = 0; i < s->nops; i++)
		nruns += s->ops[i].kind == O_RUN_INSERT;
	if (nruns > 1 && (runs = malloc((size_t)nruns * sizeof *runs))) {
		nruns = 0;
		for (int i = 0; i < s->nops; i++)
			if (s->ops[i].kind == O_RUN_INSERT)
				runs[nruns++] = &s->ops[i];
		qsort(runs, (size_t)nruns, sizeof *runs, by_key);
		for (int i = 0; i < nruns; i++)
			if (db_flow_run_insert(s->cfg.db, &runs[i]->u.run) < 0) {
				free(runs);
				db_rollback(s->cfg.db);
				return -1;
			}
	}
	for (int i = 0; i < s->nops; i++) {
		struct op *o = &s->ops[i];
		int rc;
		switch (o->kind) {
		case O_RUN_INSERT: rc = runs ? 0 : db_flow_run_insert(s->cfg.db, &o->u.run); break;
		case O_STEP: rc = db_flow_step_put(s->cfg.db, &o->u.step); break;
		case O_RUN_SET: rc = db_flow_run_set(s->cfg.db, &o->u.set); break;
		case O_EVENT: rc = flow_event_store(s->cfg.db, o->v); break;
		default: rc = db_flow_score_put(s->cfg.db, o->v); break;
		}
		if (rc < 0) {
			free(runs);
			db_rollback(s->cfg.db);
			return -1;
		}
	}
	free(runs);
	if (db_commit(s->cfg.db) < 0)
		return -1;
	for (int i = 0; i < s->nops; i++)
		jv_free(s->ops[i].v);
	s->nops = 0;
	stage_made_clear(s);
	/* the arena's first chunk is kept for the next batch */
	while (s->arena && s->arena->next) {
		struct chunk *c = s->arena;
		s->arena = c->next;
		free(c);
	}
	if (s->arena)
		s->arena->used = 0;
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

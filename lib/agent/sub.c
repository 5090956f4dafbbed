/* sub: the runner's bus subscription; see runi.h.
 *
 * One subscription carries the event patterns of every running agent and
 * agents:changed. When the patterns change, a new subscription is made
 * before the old one is read dry and removed; an event seen on both while
 * they overlap is handed on once (a line read from the old one is skipped
 * once on the new one, for a second).
 */
#include <stdlib.h>
#include <string.h>

#include "agent/runi.h"
#include "base/err.h"
#include "base/timeutil.h"
#include "bus/bus.h"
#include "json/json.h"

#define DEDUPE_MS 1000

static int seen_before(struct runner *r, const char *line, size_t n)
{
	if (jv_get_kind(r->dedupe) != JV_KIND_ARRAY)
		return 0;
	if (time_mono_ms() > r->dedupe_until) {
		jv_free(r->dedupe);
		r->dedupe = jv_null();
		return 0;
	}
	int len = jv_array_length(jv_copy(r->dedupe));
	for (int i = 0; i < len; i++) {
		jv s = jv_array_get(jv_copy(r->dedupe), i);
		int same = (size_t)jv_string_length_bytes(jv_copy(s)) == n &&
		           !memcmp(jv_string_value(s), line, n);
		jv_free(s);
		if (same) {
			r->dedupe = jv_array_set(r->dedupe, i, jv_string(""));
			return 1;
		}
	}
	return 0;
}

static int cmp_ix(const void *a, const void *b)
{
	const struct topic_ix *x = a, *y = b;
	int c = strcmp(x->topic, y->topic);
	return c ? c : x->u < y->u ? -1 : x->u > y->u;
}

void run_unindex(struct runner *r)
{
	r->ix_ok = 0;
}

void run_index_free(struct runner *r)
{
	free(r->ix);
	free(r->globs);
	r->ix = NULL;
	r->globs = NULL;
	r->nix = r->capix = r->nglobs = r->capglobs = 0;
	r->ix_ok = 0;
}

/* Indexes the units by their event topics: a unit with a pattern with
 * wildcards is looked at for every event, the others only for their
 * topics (once each, whatever their responsibilities). */
static void index_units(struct runner *r)
{
	r->nix = r->nglobs = 0;
	for (int i = 0; i < r->nu; i++) {
		struct unit *u = r->u[i];
		int glob = 0, exact = 0;
		for (int k = 0; k < u->ntrig; k++)
			if (u->trig[k].resp->kind == RESP_EVENT)
				*(u->trig[k].glob ? &glob : &exact) += 1;
		if (glob) {
			if (r->nglobs == r->capglobs) {
				int cap = r->capglobs ? r->capglobs * 2 : 16;
				struct unit **v = realloc(r->globs, (size_t)cap * sizeof *v);
				if (!v)
					return;
				r->globs = v;
				r->capglobs = cap;
			}
			r->globs[r->nglobs++] = u;
			continue;
		}
		for (int k = 0; exact && k < u->ntrig; k++) {
			if (u->trig[k].resp->kind != RESP_EVENT)
				continue;
			if (r->nix == r->capix) {
				int cap = r->capix ? r->capix * 2 : 64;
				struct topic_ix *v = realloc(r->ix, (size_t)cap * sizeof *v);
				if (!v)
					return;
				r->ix = v;
				r->capix = cap;
			}
			r->ix[r->nix++] = (struct topic_ix){ u->trig[k].resp->arg, u };
		}
	}
	if (r->nix)
		qsort(r->ix, (size_t)r->nix, sizeof *r->ix, cmp_ix);
	int m = 0; /* one entry per topic and unit */
	for (int i = 0; i < r->nix; i++)
		if (!m || strcmp(r->ix[m - 1].topic, r->ix[i].topic) || r->ix[m - 1].u != r->ix[i].u)
			r->ix[m++] = r->ix[i];
	r->nix = m;
	r->ix_ok = 1;
}

static void dispatch(struct runner *r, const char *line, size_t n)
{
	char *full = NULL;
	size_t fn;
	int ref = bus_resolve(r->db, line, n, &full, &fn);
	if (ref < 0) {
		run_warn(r, "bus: %s", err_msg());
		return;
	}
	jv ev = ref == 1 ? json_parse(full, fn) : json_parse(line, n);
	free(full);
	const char *topic = json_str(ev, "topic", NULL);
	if (topic) {
		if (!strcmp(topic, "agents:changed"))
			r->poll_now = 1;
		jv data = json_get(ev, "data");
		if (!r->ix_ok)
			index_units(r);
		if (r->ix_ok) {
			int lo = 0, hi = r->nix;
			while (lo < hi) { /* the first entry not below TOPIC */
				int mid = (lo + hi) / 2;
				if (strcmp(r->ix[mid].topic, topic) < 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			for (int i = lo; i < r->nix && !strcmp(r->ix[i].topic, topic); i++)
				unit_event(r->ix[i].u, topic, data);
			for (int i = 0; i < r->nglobs; i++)
				unit_event(r->globs[i], topic, data);
		} else { /* no memory for the index: every unit looks */
			for (int i = 0; i < r->nu; i++)
				unit_event(r->u[i], topic, data);
		}
		jv_free(data);
	}
	jv_free(ev);
}

int run_bus_line(const char *line, size_t n, void *ctx)
{
	struct runner *r = ctx;
	if (!seen_before(r, line, n))
		dispatch(r, line, n);
	return 0;
}

static int on_old_line(const char *line, size_t n, void *ctx)
{
	struct runner *r = ctx;
	dispatch(r, line, n);
	r->dedupe = jv_array_append(r->dedupe, jv_string_sized(line, (int)n));
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void run_resubscribe(struct runner *r)
{
	r->ix_ok = 0;
	if (!r->bus || r->stopping)
		return;
	int cap = 1;
	for (int i = 0; i < r->nu; i++)
		cap += r->u[i]->have_agent ? r->u[i]->a.nresp : 0;
	const char **p = malloc((size_t)cap * sizeof *p);
	if (!p)
		return;
	int n = 0;
	p[n++] = "agents:changed";
	for (int i = 0; i < r->nu; i++) {
		struct unit *u = r->u[i];
		if (!u->have_agent || u->state == U_STOPPED || u->state == U_BLOCKED)
			continue;
		for (int k = 0; k < u->a.nresp; k++)
			if (u->a.resp[k].kind == RESP_EVENT)
				p[n++] = u->a.resp[k].arg;
	}
	qsort(p, (size_t)n, sizeof *p, cmp_str);
	int m = 0;
	for (int i = 0; i < n; i++)
		if (!m || strcmp(p[m - 1], p[i]))
			p[m++] = p[i];
	jv pats = jv_array();
	for (int i = 0; i < m; i++)
		pats = jv_array_append(pats, jv_string(p[i]));
	if (jv_equal(jv_copy(pats), jv_copy(r->pats))) {
		jv_free(pats);
		free(p);
		return;
	}
	struct bus_sub *s;
	if (bus_subscribe(r->bus, p, m, &s) < 0) {
		run_warn(r, "bus: %s", err_msg());
		jv_free(pats);
		free(p);
		return;
	}
	free(p);
	if (r->sub) {
		jv_free(r->dedupe);
		r->dedupe = jv_array();
		r->dedupe_until = time_mono_ms() + DEDUPE_MS;
		bus_sub_read(r->sub, on_old_line, r);
		bus_unsubscribe(r->sub);
	}
	r->sub = s;
	jv_free(r->pats);
	r->pats = pats;
}


/* engine: calls in flight, driven by one poll(2) loop; see engine.h. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/timeutil.h"
#include "http/http.h"
#include "json/json.h"
#include "model/catalogue.h"
#include "model/engine.h"
#include "model/platform.h"

struct engine {
	struct call **v;
	int n, cap;
	struct pollfd *pfd;
	int *owner; /* pfd[i] belongs to v[owner[i]] */
	int pcap;
};

struct engine *engine_new(void)
{
	return calloc(1, sizeof(struct engine));
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	while (e->n)
		engine_cancel(e, e->v[0]);
	http_drain(2000); /* cancellations sent to servers as calls were abandoned */
	free(e->v);
	free(e->pfd);
	free(e->owner);
	free(e);
}

int engine_inflight(const struct engine *e)
{
	return e->n;
}

static void drop(struct engine *e, int i)
{
	e->v[i] = e->v[--e->n];
}

int engine_start(struct engine *e, struct call *c)
{
	const struct platform *pf = c->model->platform;
	c->started_at = time_now_ms();
	c->t0 = time_mono_ms();
	c->deadline = c->timeout_ms > 0 ? c->t0 + c->timeout_ms : 0;
	id_new_at(c->started_at, c->id);
	c->model->ncalls++;
	pf->start(c);
	if (c->done)
		return 0;
	if (e->n == e->cap) {
		int cap = e->cap ? e->cap * 2 : 16;
		struct call **v = realloc(e->v, (size_t)cap * sizeof *v);
		if (!v) {
			pf->cancel(c);
			call_fail(c, "cancelled", "out of memory");
			return err_errno("engine");
		}
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n++] = c;
	return 0;
}

void engine_cancel(struct engine *e, struct call *c)
{
	for (int i = 0; i < e->n; i++) {
		if (e->v[i] == c) {
			c->model->platform->cancel(c);
			if (!c->done)
				call_fail(c, "cancelled", "call abandoned");
			drop(e, i);
			return;
		}
	}
}

static int grow_pfd(struct engine *e, int need)
{
	if (need <= e->pcap)
		return 0;
	int cap = need * 2;
	struct pollfd *p = realloc(e->pfd, (size_t)cap * sizeof *p);
	if (!p)
		return -1;
	e->pfd = p;
	int *o = realloc(e->owner, (size_t)cap * sizeof *o);
	if (!o)
		return -1;
	e->owner = o;
	e->pcap = cap;
	return 0;
}

extern const struct platform platform_openai;

/* The shared pollers of the calls in flight, each once. */
enum { MAX_SHARED = 4 };
static int shared(struct engine *e, const struct platform **out)
{
	int n = 0;
	for (int i = 0; i < e->n; i++) {
		const struct platform *pf = e->v[i]->model->platform;
		if (!pf->shared_fds)
			continue;
		int k;
		for (k = 0; k < n && out[k]->shared_fds != pf->shared_fds; k++)
			;
		if (k == n && n < MAX_SHARED)
			out[n++] = pf;
	}
	/* Requests let go (http_fire) move on even with no HTTP call in flight. */
	int k;
	for (k = 0; k < n && out[k]->shared_fds != http_fds; k++)
		;
	if (k == n && n < MAX_SHARED && http_active() > 0)
		out[n++] = &platform_openai; /* any HTTP platform: they share the poller */
	return n;
}

int engine_wait(struct engine *e, struct pollfd *extra, int nextra, int timeout_ms)
{
	enum { PER_CALL = 8 };
	const struct platform *sh[MAX_SHARED];
	int nsh = shared(e, sh);
	int room = nsh ? 2 * e->n + 64 : 0; /* sockets of the shared pollers */
	if (grow_pfd(e, e->n * PER_CALL + nextra + nsh * room) < 0)
		return err_errno("engine");
	int64_t now = time_mono_ms(), deadline = -1;
	int np = 0;
	for (int i = 0; i < nextra; i++) {
		e->pfd[np] = extra[i];
		e->owner[np++] = -1;
	}
	int *first = calloc((size_t)e->n + 2 + (size_t)nsh, sizeof *first);
	if (!first)
		return err_errno("engine");
	int *shfirst = first + e->n + 1;
	for (int i = 0; i < e->n; i++) {
		int64_t d = -1;
		first[i] = np;
		const struct platform *pf = e->v[i]->model->platform;
		int k = pf->fds ? pf->fds(e->v[i], e->pfd + np, PER_CALL, &d) : 0;
		for (int j = 0; j < k; j++)
			e->owner[np + j] = i;
		np += k;
		if (e->v[i]->deadline && (d < 0 || e->v[i]->deadline < d))
			d = e->v[i]->deadline;
		if (d >= 0 && (deadline < 0 || d < deadline))
			deadline = d;
	}
	first[e->n] = np;
	for (int s = 0; s < nsh; s++) {
		int64_t d = -1;
		shfirst[s] = np;
		np += sh[s]->shared_fds(e->pfd + np, room, &d);
		if (d >= 0 && (deadline < 0 || d < deadline))
			deadline = d;
	}
	shfirst[nsh] = np;
	int wait = timeout_ms;
	if (deadline >= 0) {
		int64_t left = deadline > now ? deadline - now : 0;
		if (left > INT_MAX)
			left = INT_MAX;
		if (wait < 0 || left < wait)
			wait = (int)left;
	}
	if (poll(e->pfd, (nfds_t)np, wait) < 0 && errno != EINTR) {
		free(first);
		return err_errno("poll");
	}
	for (int i = 0; i < nextra; i++)
		extra[i].revents = e->pfd[i].revents;
	now = time_mono_ms();
	for (int s = 0; s < nsh; s++)
		sh[s]->shared_step(e->pfd + shfirst[s], shfirst[s + 1] - shfirst[s], now);
	int finished = 0;
	/* Step every call; iterate backwards so drop() keeps indexes valid. */
	for (int i = e->n - 1; i >= 0; i--) {
		struct call *c = e->v[i];
		if (!c->done && c->model->platform->step)
			c->model->platform->step(c, e->pfd + first[i], first[i + 1] - first[i], now);
		if (!c->done && c->deadline && now >= c->deadline) {
			/* The whole call's time is up: retries, waits and tools
			 * included. */
			c->model->platform->cancel(c);
			if (!c->done)
				call_fail(c, "timeout", "%s: no answer within %d ms", c->model->id,
				          c->timeout_ms);
		}
		if (c->done) {
			drop(e, i);
			finished++;
		}
	}
	free(first);
	return finished;
}

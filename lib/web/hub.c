/* hub: the live displays (hub.h). */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/err.h"
#include "bus/bus.h"
#include "display/display.h"
#include "json/json.h"
#include "model/catalogue.h"
#include "state/db.h"
#include "state/display.h"
#include "web/hub.h"
#include "web/serveri.h"
#include "web/sse.h"

struct member {
	struct hub *hub;
	struct group *g;
	struct web_stream *st;
	struct member *next;
};

struct group {
	char name[256], net_id[64];
	struct display d;
	char *prompt;
	long changed; /* the hub's count at its last change */
	struct member *members;
	struct group *next;
};

struct hub {
	struct web_server *srv;
	pthread_mutex_t mu;
	pthread_t th;
	int started, stopfd;
	struct bus *bus;
	struct bus_sub *sub;
	struct db *db; /* the thread's, for events sent by reference and prompts */
	long count;
	struct group *groups;
};

static const char *output_type(struct web_server *s, jv inv)
{
	const char *id = json_str(inv, "model", NULL);
	struct model *m = id && s->cfg.cat ? catalogue_find(s->cfg.cat, id) : NULL;
	return m ? mtype_name(m->output) : "text";
}

static jv view(struct web_server *s, const struct display *d, int i)
{
	return display_view(d, i, output_type(s, d->slots[i]));
}

static jv whole(struct web_server *s, const char *name, const struct display *d,
                const char *prompt)
{
	jv slots = jv_array();
	for (int i = 0; i < display_nslots(&d->spec); i++)
		slots = jv_array_append(slots, view(s, d, i));
	jv o = json_set(jv_object(), "network", jv_string(name));
	o = json_set(o, "run_id", d->run_id[0] ? jv_string(d->run_id) : jv_null());
	o = json_set(o, "prompt", prompt ? jv_string(prompt) : jv_null());
	return json_set(o, "slots", slots);
}

/* The prompt of NET_ID's latest run if it is RUN_ID, malloc'd, or NULL. */
static char *prompt_of(struct db *db, const char *net_id, const char *run_id)
{
	jv run = db_display_run(db, net_id);
	const char *id = json_str(run, "id", NULL), *p = json_str(run, "prompt", NULL);
	char *r = id && p && (!run_id || !strcmp(id, run_id)) ? strdup(p) : NULL;
	jv_free(run);
	return r;
}

/* Fills D from the state file: the latest run's recent invocations. */
static int load(struct db *db, const char *net_id, struct display *d, char **prompt)
{
	jv run = db_display_run(db, net_id);
	if (!jv_is_valid(run))
		return -1;
	const char *id = json_str(run, "id", NULL);
	if (id) {
		jv invs = db_display_recent(db, id, display_backlog(&d->spec));
		if (!jv_is_valid(invs)) {
			jv_free(run);
			return -1;
		}
		jv_array_foreach(invs, i, inv) {
			display_take(d, inv);
			jv_free(inv);
		}
		jv_free(invs);
		if (!d->run_id[0])
			snprintf(d->run_id, sizeof d->run_id, "%s", id);
		const char *p = json_str(run, "prompt", NULL);
		*prompt = p ? strdup(p) : NULL;
	}
	jv_free(run);
	return 0;
}

jv hub_snapshot(struct web_req *req, const char *name, const char *net_id,
                const struct display_spec *spec)
{
	struct display d;
	char *prompt = NULL;
	if (display_init(&d, spec) < 0)
		return jv_invalid();
	jv r = load(req->db, net_id, &d, &prompt) < 0 ? jv_invalid()
	                                              : whole(req->srv, name, &d, prompt);
	free(prompt);
	display_free(&d);
	return r;
}

static void broadcast(struct hub *h, struct group *g, const char *event, jv data)
{
	char id[64];
	snprintf(id, sizeof id, "%s-%ld", h->srv->epoch, g->changed);
	size_t n;
	char *s = json_dump(data, &n);
	jv_free(data);
	if (!s)
		return;
	for (struct member *m = g->members; m; m = m->next)
		web_stream_send(m->st, id, event, s, n);
	free(s);
}

static int on_event(const char *line, size_t n, void *ctx)
{
	struct hub *h = ctx;
	char *full = NULL;
	size_t len;
	int r = bus_resolve(h->db, line, n, &full, &len);
	if (r < 0)
		return 0;
	jv ev = r == 1 ? json_parse(full, len) : json_parse(line, n);
	free(full);
	const char *topic = json_str(ev, "topic", NULL);
	jv data = json_get(ev, "data");
	if (topic && !strncmp(topic, "invocation:", 11) && jv_get_kind(data) == JV_KIND_OBJECT) {
		pthread_mutex_lock(&h->mu);
		for (struct group *g = h->groups; g; g = g->next) {
			if (strcmp(g->name, topic + 11))
				continue;
			int slot = display_take(&g->d, data);
			if (slot == -1)
				continue;
			g->changed = ++h->count;
			if (slot == DISPLAY_RESET) {
				free(g->prompt);
				g->prompt = prompt_of(h->db, g->net_id, g->d.run_id);
				jv seq = json_get(data, "seq");
				const char *in = json_str(data, "input", NULL);
				if (!g->prompt && in && jv_get_kind(seq) == JV_KIND_NUMBER &&
				    jv_number_value(seq) == 0)
					g->prompt = strdup(in);
				jv_free(seq);
				broadcast(h, g, "slots", whole(h->srv, g->name, &g->d, g->prompt));
			} else {
				broadcast(h, g, "slot", view(h->srv, &g->d, slot));
			}
		}
		pthread_mutex_unlock(&h->mu);
	}
	jv_free(data);
	jv_free(ev);
	return 0;
}

static void *run(void *arg)
{
	struct hub *h = arg;
	struct pollfd p[2] = { { .fd = bus_sub_fd(h->sub), .events = POLLIN },
		               { .fd = h->stopfd, .events = POLLIN } };
	for (;;) {
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents)
			break;
		if (p[0].revents & POLLIN)
			bus_sub_read(h->sub, on_event, h);
	}
	return NULL;
}

int hub_start(struct hub **out, struct web_server *srv)
{
	struct hub *h = calloc(1, sizeof *h);
	if (!h)
		return err_set("out of memory");
	h->srv = srv;
	pthread_mutex_init(&h->mu, NULL);
	h->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	const char *pats[] = { "invocation:*" };
	if (h->stopfd < 0 || bus_open(&h->bus, srv->bus_dir, 0) < 0 ||
	    bus_subscribe(h->bus, pats, 1, &h->sub) < 0 ||
	    db_open(&h->db, srv->db_path, DB_CREATE) < 0) {
		hub_free(h);
		return -1;
	}
	if (pthread_create(&h->th, NULL, run, h) != 0) {
		hub_free(h);
		return err_set("cannot start a thread");
	}
	h->started = 1;
	*out = h;
	return 0;
}

void hub_stop(struct hub *h)
{
	if (!h || !h->started)
		return;
	uint64_t one = 1;
	if (write(h->stopfd, &one, sizeof one) < 0) {
		/* an eventfd write fails only on overflow */
	}
	pthread_join(h->th, NULL);
	h->started = 0;
}

static void group_free(struct group *g)
{
	display_free(&g->d);
	free(g->prompt);
	free(g);
}

void hub_free(struct hub *h)
{
	if (!h)
		return;
	hub_stop(h);
	for (struct group *g = h->groups, *next; g; g = next) {
		next = g->next;
		for (struct member *m = g->members, *mn; m; m = mn) {
			mn = m->next;
			web_stream_release(m->st);
			free(m);
		}
		group_free(g);
	}
	bus_unsubscribe(h->sub);
	bus_close(h->bus);
	if (h->db)
		db_close(h->db);
	if (h->stopfd >= 0)
		close(h->stopfd);
	pthread_mutex_destroy(&h->mu);
	free(h);
}

/* A screen went away: out of its group, and the group goes with its last. */
static void member_gone(void *ctx)
{
	struct member *m = ctx;
	struct hub *h = m->hub;
	pthread_mutex_lock(&h->mu);
	struct group *g = m->g;
	for (struct member **p = &g->members; *p; p = &(*p)->next)
		if (*p == m) {
			*p = m->next;
			break;
		}
	if (!g->members)
		for (struct group **p = &h->groups; *p; p = &(*p)->next)
			if (*p == g) {
				*p = g->next;
				group_free(g);
				break;
			}
	pthread_mutex_unlock(&h->mu);
	web_stream_release(m->st);
	free(m);
}

static int same_spec(const struct display_spec *a, const struct display_spec *b)
{
	return a->mode == b->mode && (a->mode == DISPLAY_GRID
	                                  ? a->rows == b->rows && a->cols == b->cols
	                                  : a->offset == b->offset && a->stride == b->stride &&
	                                        a->show_invoking == b->show_invoking);
}

int hub_join(struct hub *h, struct web_req *req, const char *name, const char *net_id,
             const struct display_spec *spec)
{
	if (!h)
		return web_error(req, 503, "no live updates: the server runs without a bus");
	struct member *m = calloc(1, sizeof *m);
	if (!m)
		return err_set("out of memory");
	pthread_mutex_lock(&h->mu);
	struct group *g = h->groups;
	while (g && (strcmp(g->name, name) || !same_spec(&g->d.spec, spec)))
		g = g->next;
	if (!g) { /* the hub follows the bus already: nothing falls in between */
		if (!(g = calloc(1, sizeof *g)) || display_init(&g->d, spec) < 0) {
			free(g);
			goto fail;
		}
		snprintf(g->name, sizeof g->name, "%s", name);
		snprintf(g->net_id, sizeof g->net_id, "%s", net_id);
		if (load(req->db, net_id, &g->d, &g->prompt) < 0) {
			group_free(g);
			goto fail;
		}
		g->changed = ++h->count;
		g->next = h->groups;
		h->groups = g;
	}
	m->hub = h;
	m->g = g;
	if (web_stream_open(req, &m->st, member_gone, m) < 0) {
		if (!g->members)
			for (struct group **p = &h->groups; *p; p = &(*p)->next)
				if (*p == g) {
					*p = g->next;
					group_free(g);
					break;
				}
		goto fail;
	}
	m->next = g->members;
	g->members = m;
	char id[64];
	snprintf(id, sizeof id, "%s-%ld", h->srv->epoch, g->changed);
	const char *last = web_header(req, "Last-Event-ID");
	if (!last || strcmp(last, id)) {
		size_t n;
		jv w = whole(h->srv, name, &g->d, g->prompt);
		char *s = json_dump(w, &n);
		jv_free(w);
		if (s)
			web_stream_send(m->st, id, "slots", s, n);
		free(s);
	}
	pthread_mutex_unlock(&h->mu);
	return 0;
fail:
	pthread_mutex_unlock(&h->mu);
	free(m);
	return -1;
}

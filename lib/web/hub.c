/* hub: the live displays (hub.h): one thread follows the bus and writes
 * every screen's socket (tap.h). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/err.h"
#include "bus/bus.h"
#include "display/display.h"
#include "json/json.h"
#include "model/catalogue.h"
#include "state/db.h"
#include "state/display.h"
#include "web/html.h"
#include "web/hub.h"
#include "web/serveri.h"
#include "web/sse.h"
#include "web/tap.h"

struct group {
	char name[256], net_id[64];
	struct display d;
	char *prompt;
	long changed; /* the hub's count at its last change */
	struct tap_log *log; /* its events, once for every screen */
	int64_t empty_since;  /* monotonic ms, 0: it has screens */
	struct group *next;
};

/* A screen to add, handed from a request's thread to the hub's: every jv
 * of the displays is made and freed by the hub's thread only (jq's
 * reference counts are not atomic). */
struct join {
	int fd;
	char name[256], net_id[64], last[64];
	struct display_spec spec;
	struct join *next;
};

struct hub {
	struct web_server *srv;
	pthread_mutex_t mu;
	pthread_t th;
	int started, stopfd, wakefd, epfd;
	struct bus *bus;
	struct bus_sub *sub;
	struct db *db; /* the thread's, for events sent by reference and prompts */
	long count;
	int64_t batch; /* monotonic ms: when this reading of the bus began */
	struct group *groups;
	struct join *joins; /* screens waiting to be added */
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

/* An event as SSE text: "id: ID", "event: EVENT", "data: DATA" (one
 * line of JSON), a blank line. */
static void sse_text(struct html *t, const char *id, const char *event, const char *data,
                     size_t n)
{
	html_printf(t, "id: %s\nevent: %s\ndata: ", id, event);
	html_put(t, data, strcspn(data, "\r\n") < n ? strcspn(data, "\r\n") : n);
	html_puts(t, "\n\n");
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
	struct html t;
	html_init(&t);
	sse_text(&t, id, event, s, n);
	if (!t.oom)
		tap_log_append(g->log, t.s, t.n);
	html_free(&t);
	free(s);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The bus is read for at most this long (ms) before the screens are
 * written. */
#define BATCH_MS 2

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
	jv data = json_get(ev, "data"), at = json_get(ev, "at");
	if (topic && !strncmp(topic, "invocation:", 11) && jv_get_kind(data) == JV_KIND_OBJECT) {
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
				broadcast(h, g, "slots",
				          json_set(whole(h->srv, g->name, &g->d, g->prompt), "at", jv_copy(at)));
			} else {
				broadcast(h, g, "slot", json_set(view(h->srv, &g->d, slot), "at", jv_copy(at)));
			}
		}
	}
	jv_free(data);
	jv_free(at);
	jv_free(ev);
	/* A long burst goes out in pieces: what came first is not held
	 * back while the rest is read. */
	return mono_ms() - h->batch >= BATCH_MS;
}

static char BUS_MARK, STOP_MARK, WAKE_MARK;

static void group_free(struct group *g);
static void join(struct hub *h, struct join *j);
static void join_drop(struct join *j);

/* A display nobody shows is kept this long (ms), current, for a screen
 * that comes back (its Last-Event-ID still names it). */
#define LINGER_MS 60000

/* Writes out what the events made, lets go of the screens that left, and
 * of the displays nobody has shown for LINGER_MS. Locked. */
static void flush(struct hub *h)
{
	int64_t now = mono_ms();
	for (struct group **p = &h->groups; *p;) {
		struct group *g = *p;
		tap_flush(g->log);
		tap_sweep(g->log);
		if (tap_count(g->log)) {
			g->empty_since = 0;
		} else if (!g->empty_since) {
			g->empty_since = now;
		} else if (now - g->empty_since > LINGER_MS) {
			*p = g->next;
			group_free(g);
			continue;
		}
		p = &g->next;
	}
}

static void *run(void *arg)
{
	struct hub *h = arg;
	int ping = h->srv->cfg.ping_ms > 0 ? (int)h->srv->cfg.ping_ms : 15000;
	if (ping > LINGER_MS)
		ping = LINGER_MS;
	struct epoll_event evs[64];
	int more = 0; /* the bus has more than was read */
	for (;;) {
		int n = epoll_wait(h->epfd, evs, 64, more ? 0 : ping);
		if (n < 0)
			continue;
		pthread_mutex_lock(&h->mu);
		int stop = 0, bus = more;
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			if (p == &STOP_MARK) {
				stop = 1;
			} else if (p == &BUS_MARK) {
				bus = 1;
			} else if (p == &WAKE_MARK) {
				uint64_t v;
				if (read(h->wakefd, &v, sizeof v) < 0) {
					/* nothing to take: another read took it */
				}
			} else {
				tap_ready(p, evs[i].events);
			}
		}
		if (bus) {
			h->batch = mono_ms();
			more = bus_sub_read(h->sub, on_event, h) == 1;
		}
		while (h->joins) { /* in the order they came */
			struct join **p = &h->joins;
			while ((*p)->next)
				p = &(*p)->next;
			struct join *j = *p;
			*p = NULL;
			join(h, j);
		}
		if (!n && !bus) { /* quiet: a comment line keeps proxies and screens sure */
			for (struct group *g = h->groups; g; g = g->next)
				tap_log_append(g->log, ":\n\n", 3);
		}
		flush(h);
		pthread_mutex_unlock(&h->mu);
		if (stop)
			break;
	}
	return NULL;
}

long hub_screens(struct hub *h)
{
	if (!h)
		return 0;
	pthread_mutex_lock(&h->mu);
	long n = 0;
	for (struct group *g = h->groups; g; g = g->next)
		n += tap_count(g->log);
	pthread_mutex_unlock(&h->mu);
	return n;
}

int hub_start(struct hub **out, struct web_server *srv)
{
	struct hub *h = calloc(1, sizeof *h);
	if (!h)
		return err_set("out of memory");
	h->srv = srv;
	pthread_mutex_init(&h->mu, NULL);
	h->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	h->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	const char *pats[] = { "invocation:*" };
	if (h->stopfd < 0 || h->wakefd < 0 || h->epfd < 0 || bus_open(&h->bus, srv->bus_dir, 0) < 0 ||
	    bus_subscribe(h->bus, pats, 1, &h->sub) < 0 ||
	    db_open(&h->db, srv->db_path, DB_CREATE) < 0) {
		hub_free(h);
		return -1;
	}
	struct epoll_event e1 = { .events = EPOLLIN, .data.ptr = &BUS_MARK };
	struct epoll_event e2 = { .events = EPOLLIN, .data.ptr = &STOP_MARK };
	struct epoll_event e3 = { .events = EPOLLIN, .data.ptr = &WAKE_MARK };
	if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, bus_sub_fd(h->sub), &e1) < 0 ||
	    epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->stopfd, &e2) < 0 ||
	    epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->wakefd, &e3) < 0) {
		hub_free(h);
		return err_errno("epoll");
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
	tap_log_free(g->log);
	display_free(&g->d);
	free(g->prompt);
	free(g);
}

void hub_free(struct hub *h)
{
	if (!h)
		return;
	hub_stop(h);
	while (h->joins) {
		struct join *j = h->joins;
		h->joins = j->next;
		join_drop(j);
	}
	for (struct group *g = h->groups, *next; g; g = next) {
		next = g->next;
		group_free(g);
	}
	bus_unsubscribe(h->sub);
	bus_close(h->bus);
	if (h->db)
		db_close(h->db);
	if (h->stopfd >= 0)
		close(h->stopfd);
	if (h->wakefd >= 0)
		close(h->wakefd);
	if (h->epfd >= 0)
		close(h->epfd);
	pthread_mutex_destroy(&h->mu);
	free(h);
}

static int same_spec(const struct display_spec *a, const struct display_spec *b)
{
	return a->mode == b->mode && (a->mode == DISPLAY_GRID
	                                  ? a->rows == b->rows && a->cols == b->cols
	                                  : a->offset == b->offset && a->stride == b->stride &&
	                                        a->show_invoking == b->show_invoking);
}

static const char head[] = "HTTP/1.1 200 OK\r\n"
                          "Content-Type: text/event-stream; charset=utf-8\r\n"
                          "Cache-Control: no-store\r\n"
                          "X-Content-Type-Options: nosniff\r\n"
                          "X-Accel-Buffering: no\r\n"
                          "Connection: close\r\n\r\n"
                          "retry: 1000\n\n";

/* Adds the screen J (consumed) to its display, made now if need be: the
 * answer's head, the whole display unless its Last-Event-ID is current,
 * then each event. Locked, on the hub's thread. */
static void join(struct hub *h, struct join *j)
{
	struct group *g = h->groups;
	while (g && (strcmp(g->name, j->name) || !same_spec(&g->d.spec, &j->spec)))
		g = g->next;
	int fresh = !g;
	if (!g) { /* the hub follows the bus already: nothing falls in between */
		if (!(g = calloc(1, sizeof *g)) || !(g->log = tap_log_new()) ||
		    display_init(&g->d, &j->spec) < 0) {
			if (g)
				tap_log_free(g->log);
			free(g);
			goto fail;
		}
		snprintf(g->name, sizeof g->name, "%s", j->name);
		snprintf(g->net_id, sizeof g->net_id, "%s", j->net_id);
		if (load(h->db, j->net_id, &g->d, &g->prompt) < 0) {
			group_free(g);
			goto fail;
		}
		g->changed = ++h->count;
		g->next = h->groups;
		h->groups = g;
	}
	char id[64];
	snprintf(id, sizeof id, "%s-%ld", h->srv->epoch, g->changed);
	struct html first;
	html_init(&first);
	html_put(&first, head, sizeof head - 1);
	if (strcmp(j->last, id)) {
		size_t n;
		jv w = whole(h->srv, g->name, &g->d, g->prompt);
		char *s = json_dump(w, &n);
		jv_free(w);
		if (s)
			sse_text(&first, id, "slots", s, n);
		free(s);
	}
	int rc = first.oom ? -1 : tap_add(g->log, h->epfd, j->fd, first.s, first.n);
	html_free(&first);
	if (rc < 0) {
		if (fresh) {
			h->groups = g->next;
			group_free(g);
		}
		goto fail;
	}
	free(j);
	return;
fail: /* the screen gets no answer but the end: its browser tries again */
	join_drop(j);
}

static void join_drop(struct join *j)
{
	close(j->fd);
	free(j);
}

int hub_join(struct hub *h, struct web_req *req, const char *name, const char *net_id,
             const struct display_spec *spec)
{
	if (!h)
		return web_error(req, 503, "no live updates: the server runs without a bus");
	struct join *j = calloc(1, sizeof *j);
	if (!j)
		return err_set("out of memory");
	const char *last = web_header(req, "Last-Event-ID");
	snprintf(j->name, sizeof j->name, "%s", name);
	snprintf(j->net_id, sizeof j->net_id, "%s", net_id);
	snprintf(j->last, sizeof j->last, "%.63s", last ? last : "");
	j->spec = *spec;
	if ((j->fd = web_take_socket(req)) < 0) {
		free(j);
		return -1;
	}
	pthread_mutex_lock(&h->mu);
	j->next = h->joins;
	h->joins = j;
	pthread_mutex_unlock(&h->mu);
	uint64_t one = 1;
	if (write(h->wakefd, &one, sizeof one) < 0) {
		/* full: the hub is awake anyway */
	}
	return 0;
}

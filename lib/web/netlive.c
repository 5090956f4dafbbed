/* netlive: the networks page's live status (netlive.h). */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/err.h"
#include "base/timeutil.h"
#include "bus/bus.h"
#include "json/json.h"
#include "state/db.h"
#include "state/loop.h"
#include "web/netlive.h"
#include "web/serveri.h"
#include "web/sse.h"

/* A page. One that left is let go at the next send (which fails). */
struct watcher {
	struct web_stream *s;
	int gone;
	struct watcher *next;
};

/* A network that moved in this burst. */
struct moved {
	char name[256];
	struct moved *next;
};

struct netlive {
	struct web_server *srv;
	pthread_t th;
	int started, stopfd;
	struct bus *bus;
	struct bus_sub *sub;
	struct db *db; /* the thread's */
	pthread_mutex_t mu;
	struct watcher *ws;
	struct moved *moved;
	int watched; /* some page follows: read the events */
};

/* NET's status event's data, malloc'd JSON (*N bytes), or NULL. Every jv
 * is made and freed on the calling thread. */
static char *status_json(struct db *db, jv net, size_t *n)
{
	jv st = loop_status(db, net, time_now_ms());
	jv o = json_set(jv_object(), "network", json_get(net, "name"));
	o = json_set(o, "status", jv_is_valid(st) ? st : jv_null());
	char *s = json_dump(o, n);
	jv_free(o);
	return s;
}

static int on_event(const char *line, size_t n, void *ctx)
{
	struct netlive *nl = ctx;
	if (!nl->watched)
		return 0;
	/* The topic is all it needs: "invocation:NET" or "run:NET". */
	jv ev = json_parse(line, n);
	const char *topic = json_str(ev, "topic", NULL);
	const char *name = !topic                             ? NULL
	                   : !strncmp(topic, "invocation:", 11) ? topic + 11
	                   : !strncmp(topic, "run:", 4)         ? topic + 4
	                                                        : NULL;
	struct moved *m = nl->moved;
	while (name && m && strcmp(m->name, name))
		m = m->next;
	if (name && !m && strlen(name) < sizeof m->name && (m = calloc(1, sizeof *m))) {
		strcpy(m->name, name);
		m->next = nl->moved;
		nl->moved = m;
	}
	jv_free(ev);
	return 0;
}

/* Sends TEXT to every page; lets go of those that left. */
static void send_all(struct netlive *nl, const char *text, size_t n)
{
	pthread_mutex_lock(&nl->mu);
	for (struct watcher **p = &nl->ws; *p;) {
		struct watcher *w = *p;
		if (!w->gone && text && web_stream_send(w->s, NULL, "status", text, n) < 0)
			w->gone = 1;
		if (w->gone) {
			*p = w->next;
			web_stream_release(w->s);
			free(w);
		} else {
			p = &w->next;
		}
	}
	pthread_mutex_unlock(&nl->mu);
}

static void *run(void *arg)
{
	struct netlive *nl = arg;
	struct pollfd p[2] = { { .fd = bus_sub_fd(nl->sub), .events = POLLIN },
		               { .fd = nl->stopfd, .events = POLLIN } };
	while (!(p[1].revents & POLLIN)) {
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[0].revents & POLLIN) {
			pthread_mutex_lock(&nl->mu);
			nl->watched = nl->ws != NULL;
			pthread_mutex_unlock(&nl->mu);
			bus_sub_read(nl->sub, on_event, nl);
		}
		while (nl->moved) {
			struct moved *m = nl->moved;
			nl->moved = m->next;
			jv net = db_net_get(nl->db, m->name);
			if (jv_get_kind(net) == JV_KIND_OBJECT) {
				size_t n;
				char *s = status_json(nl->db, net, &n);
				if (s)
					send_all(nl, s, n);
				free(s);
			}
			jv_free(net);
			free(m);
		}
		send_all(nl, NULL, 0); /* the pages that left */
	}
	return NULL;
}

int netlive_start(struct netlive **out, struct web_server *srv)
{
	struct netlive *nl = calloc(1, sizeof *nl);
	if (!nl)
		return err_set("out of memory");
	nl->srv = srv;
	pthread_mutex_init(&nl->mu, NULL);
	nl->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	const char *pats[] = { "invocation:*", "run:*" };
	if (nl->stopfd < 0 || bus_open(&nl->bus, srv->bus_dir, 0) < 0 ||
	    bus_subscribe(nl->bus, pats, 2, &nl->sub) < 0 ||
	    db_open(&nl->db, srv->db_path, DB_CREATE) < 0) {
		netlive_free(nl);
		return -1;
	}
	if (pthread_create(&nl->th, NULL, run, nl) != 0) {
		netlive_free(nl);
		return err_set("cannot start a thread");
	}
	nl->started = 1;
	*out = nl;
	return 0;
}

void netlive_free(struct netlive *nl)
{
	if (!nl)
		return;
	if (nl->started) {
		uint64_t one = 1;
		if (write(nl->stopfd, &one, sizeof one) < 0) {
			/* an eventfd write fails only on overflow */
		}
		pthread_join(nl->th, NULL);
	}
	for (struct watcher *w = nl->ws, *next; w; w = next) {
		next = w->next;
		web_stream_release(w->s);
		free(w);
	}
	while (nl->moved) {
		struct moved *m = nl->moved;
		nl->moved = m->next;
		free(m);
	}
	bus_unsubscribe(nl->sub);
	bus_close(nl->bus);
	if (nl->db)
		db_close(nl->db);
	if (nl->stopfd >= 0)
		close(nl->stopfd);
	pthread_mutex_destroy(&nl->mu);
	free(nl);
}

struct first {
	struct web_req *req;
	struct web_stream *s;
};

static int send_net(jv net, void *ctx)
{
	struct first *f = ctx;
	size_t n;
	char *s = status_json(f->req->db, net, &n);
	if (s)
		web_stream_queue(f->s, NULL, "status", s, n);
	free(s);
	jv_free(net);
	return 0;
}

int netlive_join(struct netlive *nl, struct web_req *req)
{
	if (!nl)
		return web_error(req, 503, "no live updates: the server runs without a bus");
	struct watcher *w = calloc(1, sizeof *w);
	if (!w)
		return err_set("out of memory");
	if (web_stream_open(req, &w->s, NULL, NULL) < 0) {
		free(w);
		return -1;
	}
	/* Each network as it is now, then its changes (the page may be older
	 * than its stream), under the lock: no change is sent in between. */
	struct first f = { req, w->s };
	pthread_mutex_lock(&nl->mu);
	w->next = nl->ws;
	nl->ws = w;
	db_net_list(req->db, send_net, &f);
	web_stream_flush(w->s);
	pthread_mutex_unlock(&nl->mu);
	return 0;
}

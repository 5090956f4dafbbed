/* netlive: the networks page's live status (netlive.h). A runner that
 * ends says nothing on the bus after its lock is gone: the thread also
 * watches each runner it reported (a pidfd) and reports its network
 * again when it has exited. */
#include <errno.h>
#include <poll.h>
#include <sys/syscall.h>
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

/* A runner reported running, watched till it exits. */
struct runner {
	int fd; /* pidfd */
	long pid;
	char name[256];
	struct runner *next;
};

#define RUNNERS_MAX 62

struct netlive {
	struct web_server *srv;
	pthread_t th;
	int started, stopfd, wakefd; /* wake: a page came, watch the runners */
	struct bus *bus;
	struct bus_sub *sub;
	struct db *db; /* the thread's */
	pthread_mutex_t mu;
	struct watcher *ws;
	struct moved *moved;
	struct runner *runners;
	int nrunners;
	int watched; /* some page follows: read the events */
};

/* NET's status event's data, malloc'd JSON (*N bytes), or NULL. Every jv
 * is made and freed on the calling thread. */
static char *status_json(struct db *db, jv net, size_t *n, long *pid)
{
	jv st = loop_status(db, net, time_now_ms());
	jv p = jv_is_valid(st) ? json_get(st, "pid") : jv_null();
	*pid = jv_get_kind(p) == JV_KIND_NUMBER ? (long)jv_number_value(p) : 0;
	jv_free(p);
	jv o = json_set(jv_object(), "network", json_get(net, "name"));
	o = json_set(o, "status", jv_is_valid(st) ? st : jv_null());
	char *s = json_dump(o, n);
	jv_free(o);
	return s;
}

/* NAME's status is to be sent again. */
static void move(struct netlive *nl, const char *name)
{
	struct moved *m = nl->moved;
	while (m && strcmp(m->name, name))
		m = m->next;
	if (!m && strlen(name) < sizeof m->name && (m = calloc(1, sizeof *m))) {
		strcpy(m->name, name);
		m->next = nl->moved;
		nl->moved = m;
	}
}

/* Watches PID, NAME's runner now (0: none), instead of the one before:
 * -1 if that runner has gone already. */
static int watch(struct netlive *nl, const char *name, long pid)
{
	for (struct runner **p = &nl->runners; *p; p = &(*p)->next) {
		struct runner *r = *p;
		if (!strcmp(r->name, name)) {
			if (r->pid == pid)
				return 0;
			*p = r->next;
			close(r->fd);
			free(r);
			nl->nrunners--;
			break;
		}
	}
	if (pid <= 0 || nl->nrunners >= RUNNERS_MAX || strlen(name) >= sizeof nl->runners->name)
		return 0;
	struct runner *r = calloc(1, sizeof *r);
	if (!r || (r->fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0)) < 0) {
		int gone = r && errno == ESRCH; /* else no pidfds: its next event tells */
		free(r);
		return gone ? -1 : 0;
	}
	r->pid = pid;
	strcpy(r->name, name);
	r->next = nl->runners;
	nl->runners = r;
	nl->nrunners++;
	return 0;
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
	if (name)
		move(nl, name);
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

/* Watches NET's runner, if one runs (a page came: it shows it). */
static int watch_net(jv net, void *ctx)
{
	struct netlive *nl = ctx;
	jv st = loop_status(nl->db, net, time_now_ms());
	jv p = jv_is_valid(st) ? json_get(st, "pid") : jv_null();
	if (jv_get_kind(p) == JV_KIND_NUMBER)
		watch(nl, json_str_or(net, "name", ""), (long)jv_number_value(p));
	jv_free(p);
	jv_free(st);
	jv_free(net);
	return 0;
}

static void *run(void *arg)
{
	struct netlive *nl = arg;
	struct pollfd p[3 + RUNNERS_MAX];
	struct runner *of[3 + RUNNERS_MAX];
	for (;;) {
		p[0] = (struct pollfd){ .fd = bus_sub_fd(nl->sub), .events = POLLIN };
		p[1] = (struct pollfd){ .fd = nl->stopfd, .events = POLLIN };
		p[2] = (struct pollfd){ .fd = nl->wakefd, .events = POLLIN };
		int k = 3;
		for (struct runner *r = nl->runners; r && k < 3 + RUNNERS_MAX; r = r->next) {
			of[k] = r;
			p[k++] = (struct pollfd){ .fd = r->fd, .events = POLLIN };
		}
		if (poll(p, (nfds_t)k, -1) < 0)
			continue;
		if (p[1].revents & POLLIN)
			break;
		pthread_mutex_lock(&nl->mu);
		nl->watched = nl->ws != NULL;
		pthread_mutex_unlock(&nl->mu);
		if (p[0].revents & POLLIN)
			bus_sub_read(nl->sub, on_event, nl);
		if (p[2].revents & POLLIN) {
			uint64_t v;
			if (read(nl->wakefd, &v, sizeof v) < 0) {
				/* taken already */
			}
			db_net_list(nl->db, watch_net, nl);
		}
		for (int i = 3; i < k; i++)
			if (p[i].revents) { /* it exited */
				move(nl, of[i]->name);
				watch(nl, of[i]->name, 0);
			}
		while (nl->moved) {
			struct moved *m = nl->moved;
			nl->moved = m->next;
			jv net = db_net_get(nl->db, m->name);
			if (jv_get_kind(net) == JV_KIND_OBJECT) {
				size_t n;
				long pid;
				char *s = status_json(nl->db, net, &n, &pid);
				if (s) {
					send_all(nl, s, n);
					if (watch(nl, m->name, pid) < 0) {
						/* it exited between its status and the watch
						 * (and says nothing more): what is left */
						free(s);
						if ((s = status_json(nl->db, net, &n, &pid)))
							send_all(nl, s, n);
					}
				}
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
	nl->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	const char *pats[] = { "invocation:*", "run:*" };
	if (nl->stopfd < 0 || nl->wakefd < 0 || bus_open(&nl->bus, srv->bus_dir, 0) < 0 ||
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
	while (nl->runners) {
		struct runner *r = nl->runners;
		nl->runners = r->next;
		close(r->fd);
		free(r);
	}
	bus_unsubscribe(nl->sub);
	bus_close(nl->bus);
	if (nl->db)
		db_close(nl->db);
	if (nl->stopfd >= 0)
		close(nl->stopfd);
	if (nl->wakefd >= 0)
		close(nl->wakefd);
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
	long pid;
	char *s = status_json(f->req->db, net, &n, &pid);
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
	uint64_t one = 1;
	if (write(nl->wakefd, &one, sizeof one) < 0) {
		/* full: the thread is awake anyway */
	}
	return 0;
}

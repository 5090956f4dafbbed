/* publish: the publisher's side of the fifodir bus; see bus.h for the
 * protocol and fifodir.h for the files.
 *
 * A publisher's struct bus caches the subscribers it knows ("peers"): name,
 * patterns and, once it has delivered to one, an open write end. The cache
 * is filled by one directory scan, then kept by inotify (a fifo renamed in:
 * a new peer; a fifo removed: a departed one) and by the errors writes
 * return. A peer killed without removing its fifo is found by its write
 * end's POLLERR, checked at most every PEER_CHECK_MS, or by the next write.
 * inotify is set up only once the counter below has moved since the scan
 * (a second scan then catches up): a one-shot publisher never needs it.
 *
 * ".gen" in the directory holds a counter, shared by mmap, that subscribers
 * increment after they come or go: a publisher reads inotify only when it
 * has moved, so a publish that finds nothing new makes no system call.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/id.h"
#include "base/timeutil.h"
#include "bus/bus.h"
#include "bus/fifodir.h"
#include "json/json.h"
#include "state/db.h"

#define PEER_CHECK_MS 100

static void peer_free(struct peer *p)
{
	free(p->out);
	if (p->fd >= 0)
		close(p->fd);
	for (int i = 0; i < p->npat; i++)
		free(p->pat[i]);
	free(p->pat);
}

void busi_peers_free(struct bus *b)
{
	for (int i = 0; i < b->n; i++)
		peer_free(&b->peers[i]);
	free(b->peers);
}

static int find_peer(struct bus *b, const char *name)
{
	for (int i = 0; i < b->n; i++)
		if (!strcmp(b->peers[i].name, name))
			return i;
	return -1;
}

static void drop_peer(struct bus *b, int i)
{
	peer_free(&b->peers[i]);
	b->peers[i] = b->peers[--b->n];
	b->topic[0] = 0; /* match flags must be worked out again */
}

/* The subscriber is gone: forget it and sweep its files. */
static void peer_gone(struct bus *b, int i)
{
	busi_unlink_sub(b->dfd, b->peers[i].name);
	drop_peer(b, i);
}

static void add_peer(struct bus *b, const char *name)
{
	if (!busi_fifo_name(name) || find_peer(b, name) >= 0)
		return;
	jv info = busi_read_info(b, name);
	jv pats = json_get(info, "patterns");
	int n = jv_get_kind(pats) == JV_KIND_ARRAY ? jv_array_length(jv_copy(pats)) : 0;
	jv_free(info);
	if (n <= 0) {
		jv_free(pats);
		return; /* not a whole subscriber (yet): clean handles leftovers */
	}
	if (b->n == b->cap) {
		int cap = b->cap ? b->cap * 2 : 16;
		struct peer *v = realloc(b->peers, (size_t)cap * sizeof *v);
		if (!v) {
			jv_free(pats);
			return;
		}
		b->peers = v;
		b->cap = cap;
	}
	struct peer *p = &b->peers[b->n];
	memset(p, 0, sizeof *p);
	p->fd = -1;
	snprintf(p->name, sizeof p->name, "%s", name);
	p->pat = calloc((size_t)n, sizeof *p->pat);
	for (int i = 0; p->pat && i < n; i++) {
		jv s = jv_array_get(jv_copy(pats), i);
		if (jv_get_kind(s) == JV_KIND_STRING && (p->pat[p->npat] = strdup(jv_string_value(s))))
			p->npat++;
		jv_free(s);
	}
	jv_free(pats);
	b->n++;
	b->topic[0] = 0;
}

/* Opens peer I's fifo for writing. 0, or -1 if it is gone (removed). */
static int peer_open(struct bus *b, int i)
{
	struct peer *p = &b->peers[i];
	if (p->fd >= 0)
		return 0;
	p->fd = busi_open_entry(b, p->name, O_WRONLY | O_NONBLOCK, S_IFIFO);
	if (p->fd >= 0)
		return 0;
	if (errno == ENXIO) /* nobody reads it: its subscriber died */
		peer_gone(b, i);
	else
		drop_peer(b, i);
	return -1;
}

static void scan_one(struct bus *b, const char *name, void *ctx)
{
	(void)ctx;
	add_peer(b, name);
}

static void scan(struct bus *b)
{
	busi_each_entry(b, scan_one, NULL);
	/* Open every peer now: a dead one is swept by this publish. */
	for (int i = b->n - 1; i >= 0; i--)
		peer_open(b, i);
}

/* inotify on the directory, from now on; or none (b->watch -1): then
 * every publish looks. */
static void watch(struct bus *b)
{
	b->watched = 1;
	b->watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (b->watch >= 0 &&
	    inotify_add_watch(b->watch, b->dir,
	                      IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF) < 0) {
		close(b->watch);
		b->watch = -1;
	}
}

static void refresh(struct bus *b)
{
	if (b->scanned && b->gen && !b->n &&
	    __atomic_load_n(b->gen, __ATOMIC_SEQ_CST) == b->seen)
		return; /* nothing came or went, and nobody to check on */
	if (b->gen)
		b->seen = __atomic_load_n(b->gen, __ATOMIC_SEQ_CST);
	if (!b->scanned) {
		/* inotify waits until someone comes or goes (the counter
		 * moves): a publisher that lives for a few events never sets
		 * it up, nor pays for closing it. Without the counter, now. */
		if (!b->gen)
			watch(b);
		b->scanned = 1;
		b->read_at = b->seen;
		scan(b);
		return;
	}
	int64_t now = time_mono_ms();
	if (!b->watched && b->seen != b->read_at) {
		watch(b);
		b->read_at = b->seen;
		scan(b); /* who came before the watch; who went shows on a write */
	} else if (b->watched && b->watch < 0) { /* no inotify: look again every time */
		scan(b);
	} else if (b->watched && (!b->gen || b->seen != b->read_at)) {
		b->read_at = b->seen;
		char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
		ssize_t k;
		while ((k = read(b->watch, buf, sizeof buf)) > 0) {
			for (char *p = buf; p < buf + k;) {
				struct inotify_event *ev = (struct inotify_event *)p;
				p += sizeof *ev + ev->len;
				if (ev->mask & IN_Q_OVERFLOW) {
					while (b->n)
						drop_peer(b, 0);
					scan(b);
				} else if (ev->len && (ev->mask & IN_MOVED_TO)) {
					add_peer(b, ev->name);
				} else if (ev->len) {
					int i = find_peer(b, ev->name);
					if (i >= 0)
						drop_peer(b, i);
				}
			}
		}
	}
	if (b->n && now - b->checked >= PEER_CHECK_MS) {
		b->checked = now;
		struct pollfd pfd[64];
		for (int base = 0; base < b->n; base += 64) {
			int k = 0;
			for (int i = base; i < b->n && k < 64; i++)
				pfd[k++] = (struct pollfd){ .fd = b->peers[i].fd, .events = 0 };
			if (poll(pfd, (nfds_t)k, 0) <= 0)
				continue;
			for (int j = k - 1; j >= 0; j--)
				if (pfd[j].fd >= 0 && (pfd[j].revents & POLLERR))
					peer_gone(b, base + j);
		}
	}
}

static int peer_wants(const struct peer *p, const char *topic)
{
	for (int i = 0; i < p->npat; i++)
		if (fnmatch(p->pat[i], topic, 0) == 0)
			return 1;
	return 0;
}

/* Sets every peer's match flag for TOPIC; returns how many match. Topics
 * repeat, so the flags are kept until the topic or the peers change. */
static int match(struct bus *b, const char *topic)
{
	refresh(b);
	if (b->topic[0] && !strcmp(b->topic, topic))
		return b->matched;
	b->matched = 0;
	for (int i = 0; i < b->n; i++)
		b->matched += b->peers[i].match = peer_wants(&b->peers[i], topic);
	snprintf(b->topic, sizeof b->topic, "%s", topic);
	/* A checked topic has no controls: only " and \ need escaping. */
	char *p = b->prefix;
	p += sprintf(p, "{\"topic\":\"");
	for (const char *t = topic; *t; t++) {
		if (*t == '"' || *t == '\\')
			*p++ = '\\';
		*p++ = *t;
	}
	p += sprintf(p, "\",\"at\":\"");
	b->prefixlen = (size_t)(p - b->prefix);
	return b->matched;
}

/* The topic is checked once, when it changes. */
static int topic_ok(struct bus *b, const char *topic)
{
	return (b->topic[0] && !strcmp(b->topic, topic)) ||
	       bus_check_topic(topic, strlen(topic)) == 0;
}

int bus_wants(struct bus *b, const char *topic)
{
	refresh(b);
	if (!b->n)
		return 0; /* nobody listens: no topic to check or format */
	return topic_ok(b, topic) && match(b, topic) > 0;
}

static void count_drops(struct bus *b, const char *name, int n)
{
	char path[NAME_MAX_LEN + 8], ones[PIPE_BUF];
	snprintf(path, sizeof path, "%s.drops", name);
	int fd = busi_open_entry(b, path, O_WRONLY | O_APPEND | O_CREAT, S_IFREG);
	if (fd >= 0) {
		memset(ones, 'x', (size_t)n);
		if (write(fd, ones, (size_t)n) < 0) {
			/* the count is best effort; the drops themselves are certain */
		}
		close(fd);
	}
}

/* Writes peer I's waiting events in one write(2). Returns -1 if the peer
 * turned out to be gone (and slot I now holds another). */
static int flush_peer(struct bus *b, int i)
{
	struct peer *p = &b->peers[i];
	if (!p->outlen)
		return 0;
	ssize_t k = write(p->fd, p->out, p->outlen);
	if (k < 0 && errno == EAGAIN && time_mono_ms() >= p->stalled) {
		/* Full: a reader that is only busy gets BUS_GRACE_MS to make room. */
		struct pollfd pfd = { .fd = p->fd, .events = POLLOUT };
		if (poll(&pfd, 1, BUS_GRACE_MS) == 1 && (pfd.revents & POLLOUT))
			k = write(p->fd, p->out, p->outlen);
		else
			errno = EAGAIN;
		if (k < 0 && errno == EAGAIN)
			p->stalled = time_mono_ms() + BUS_STALL_MS;
	}
	int n = p->outn;
	p->outlen = 0;
	p->outn = 0;
	if (k >= 0) {
		p->stalled = 0;
	} else if (errno == EAGAIN) {
		count_drops(b, p->name, n);
	} else if (errno == EPIPE) {
		peer_gone(b, i);
		return -1;
	}
	return 0;
}

void bus_flush(struct bus *b)
{
	for (int i = b->n - 1; i >= 0; i--)
		flush_peer(b, i);
	b->pending = 0;
}

/* Queues the event line (LEN bytes) for every peer whose flag is set. */
static int deliver(struct bus *b, const char *line, size_t len)
{
	int reached = 0;
	for (int i = b->n - 1; i >= 0; i--) {
		struct peer *p = &b->peers[i];
		if (!p->match || peer_open(b, i) < 0)
			continue;
		p = &b->peers[i];
		if (!p->out && !(p->out = malloc(PIPE_BUF)))
			continue;
		if (p->outlen + len > PIPE_BUF && flush_peer(b, i) < 0)
			continue;
		memcpy(p->out + p->outlen, line, len);
		p->outlen += len;
		p->outn++;
		reached++;
	}
	int64_t now = time_mono_ms();
	if (!b->pending)
		b->pending = now;
	else if (now - b->pending >= BUS_FLUSH_MS)
		bus_flush(b);
	return reached;
}

/* Builds the event line in b->line: the data DATA (N bytes of JSON), or,
 * if REF, a reference to SIZE bytes stored under REF. Returns its length. */
static size_t build(struct bus *b, const char *data, size_t n, const char *ref, size_t size)
{
	size_t need = b->prefixlen + n + 128;
	if (need > b->linecap) {
		char *l = realloc(b->line, need);
		if (!l)
			return 0;
		b->line = l;
		b->linecap = need;
	}
	char at[32], *p = b->line;
	memcpy(p, b->prefix, b->prefixlen);
	p += b->prefixlen;
	memcpy(p, time_rfc3339(time_now_ms(), at), 24);
	p += 24;
	if (ref) {
		p += sprintf(p, "\",\"ref\":\"%s\",\"size\":%zu}\n", ref, size);
	} else {
		memcpy(p, "\",\"data\":", 9);
		p += 9;
		memcpy(p, data, n);
		p += n;
		memcpy(p, "}\n", 2);
		p += 2;
	}
	return (size_t)(p - b->line);
}

int bus_publish_text(struct bus *b, const char *topic, const char *data, size_t n,
                     struct db *db)
{
	if (!topic_ok(b, topic))
		return -1;
	if (!match(b, topic))
		return 0;
	size_t len = build(b, data, n, NULL, 0);
	if (!len)
		return err_errno("bus");
	if (len > PIPE_BUF) {
		char id[ID_LEN + 1];
		if (!db)
			return BUS_NEED_DB;
		id_new(id);
		if (db_payload_put(db, id, topic, b->line, len - 1) < 0)
			return -1;
		len = build(b, NULL, 0, id, len - 1);
	}
	return deliver(b, b->line, len);
}

int bus_publish(struct bus *b, const char *topic, jv data, struct db *db)
{
	if (!topic_ok(b, topic))
		return -1;
	if (!match(b, topic))
		return 0; /* nobody listens: the data is not even written out */
	rewind(b->mem);
	json_put(b->mem, data);
	fflush(b->mem);
	return bus_publish_text(b, topic, b->membuf, (size_t)ftell(b->mem), db);
}

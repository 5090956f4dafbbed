/* bus: the fifodir event bus; see bus.h for the protocol.
 *
 * A publisher's struct bus caches the subscribers it knows ("peers"): name,
 * patterns and, once it has delivered to one, an open write end. The cache
 * is filled by one directory scan, then kept by inotify (a fifo renamed in:
 * a new peer; a fifo removed: a departed one) and by the errors writes
 * return. A peer killed without removing its fifo is found by its write
 * end's POLLERR, checked at most every PEER_CHECK_MS, or by the next write.
 *
 * ".gen" in the directory holds a counter, shared by mmap, that subscribers
 * increment after they come or go: a publisher reads inotify only when it
 * has moved, so a publish that finds nothing new makes no system call.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/id.h"
#include "base/path.h"
#include "base/timeutil.h"
#include "base/utf8.h"
#include "bus/bus.h"
#include "json/json.h"
#include "state/db.h"

#define PEER_CHECK_MS 100
#define NAME_MAX_LEN 64

struct peer {
	char name[NAME_MAX_LEN];
	int fd; /* write end, -1 until first needed */
	char **pat;
	int npat;
	int match; /* its patterns match b->topic */
	char *out;  /* whole events waiting to be written, at most PIPE_BUF */
	size_t outlen;
	int outn;   /* how many events that is */
	int64_t stalled; /* until when it gets no grace (monotonic ms), or 0 */
};

struct bus {
	char *dir;
	int dfd;
	int shared;
	int watch;   /* inotify fd, -1 if none */
	int scanned; /* the peer cache is filled */
	struct peer *peers;
	int n, cap;
	int64_t checked; /* last POLLERR check, monotonic ms */
	uint64_t *gen;   /* the directory's generation counter (mmap'd), or NULL */
	uint64_t seen;   /* its value when the cache was last brought up to date */
	uint64_t read_at; /* its value when inotify was last read */
	FILE *mem;       /* event lines are built here */
	char *membuf;
	size_t memsize;
	char topic[256];  /* the topic every peer's match flag is for */
	char prefix[600]; /* {"topic":TOPIC,"at":"  for that topic */
	size_t prefixlen;
	char *line;       /* the event line being sent */
	size_t linecap;
	int matched;      /* peers whose flag is set */
	int64_t pending;  /* when the oldest unwritten event was queued, or 0 */
};

struct bus_sub {
	struct bus *b;
	char name[NAME_MAX_LEN];
	int rfd, wfd;
	char *buf;
	size_t len, cap;
};

static int fifo_name(const char *s)
{
	size_t n = strlen(s);
	return !strncmp(s, "sub.", 4) && strchr(s + 4, '.') && strchr(s + 4, '.') ==
	       strrchr(s, '.') && n < NAME_MAX_LEN;
}

/* "sub.PID.RAND[.suffix]" or ".tmp.PID.RAND[.suffix]": the PID. */
static pid_t name_pid(const char *s)
{
	const char *p = s[0] == '.' ? s + 5 : s + 4;
	return (pid_t)strtol(p, NULL, 10);
}

static int pid_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

int bus_check_topic(const char *t, size_t n)
{
	if (n == 0)
		return err_set("empty topic");
	if (n > 255)
		return err_set("topic longer than 255 bytes");
	if (memchr(t, 0, n))
		return err_set("NUL byte in topic");
	if (utf8_check(t, n) != n)
		return err_set("topic is not UTF-8");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];
		if (c <= ' ' || c == 127)
			return err_set("white space or control character in topic '%.*s'",
			               (int)n, t);
	}
	return 0;
}

int bus_open(struct bus **out, const char *dir, int flags)
{
	struct bus *b = calloc(1, sizeof *b);
	*out = NULL;
	if (!b)
		return err_errno("bus");
	b->dfd = b->watch = -1;
	b->shared = (flags & BUS_SHARED) != 0;
	if (!(b->dir = strdup(dir))) {
		free(b);
		return err_errno("bus");
	}
	int mode = b->shared ? 02770 : 0700;
	if (path_mkparents(dir, 0700) < 0)
		goto fail;
	if (mkdir(dir, (mode_t)mode) == 0)
		chmod(dir, (mode_t)mode); /* past the umask */
	else if (errno != EEXIST) {
		err_errno(dir);
		goto fail;
	}
	if ((b->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		err_errno(dir);
		goto fail;
	}
	if (!(b->mem = open_memstream(&b->membuf, &b->memsize))) {
		err_errno("bus");
		goto fail;
	}
	/* Without the counter (a read-only bus, say) every publish looks. */
	int gfd = openat(b->dfd, ".gen", O_RDWR | O_CREAT | O_CLOEXEC, b->shared ? 0660 : 0600);
	if (gfd >= 0) {
		struct stat st;
		if (fstat(gfd, &st) == 0 && (st.st_size >= 64 || ftruncate(gfd, 64) == 0)) {
			void *m = mmap(NULL, 64, PROT_READ | PROT_WRITE, MAP_SHARED, gfd, 0);
			if (m != MAP_FAILED)
				b->gen = m;
		}
		close(gfd);
	}
	*out = b;
	return 0;
fail:
	bus_close(b);
	return -1;
}

static void peer_free(struct peer *p)
{
	free(p->out);
	if (p->fd >= 0)
		close(p->fd);
	for (int i = 0; i < p->npat; i++)
		free(p->pat[i]);
	free(p->pat);
}

void bus_close(struct bus *b)
{
	if (!b)
		return;
	bus_flush(b);
	for (int i = 0; i < b->n; i++)
		peer_free(&b->peers[i]);
	free(b->peers);
	if (b->gen)
		munmap(b->gen, 64);
	if (b->mem)
		fclose(b->mem);
	free(b->membuf);
	free(b->line);
	if (b->watch >= 0)
		close(b->watch);
	if (b->dfd >= 0)
		close(b->dfd);
	free(b->dir);
	free(b);
}



/* The info of subscriber NAME (its JSON object), or jv_invalid(). */
static jv read_info(struct bus *b, const char *name)
{
	char path[NAME_MAX_LEN + 8], buf[8192];
	snprintf(path, sizeof path, "%s.info", name);
	int fd = openat(b->dfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return jv_invalid();
	ssize_t k = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (k <= 0)
		return jv_invalid();
	jv info = json_parse(buf, k);
	if (jv_get_kind(info) != JV_KIND_OBJECT) {
		jv_free(info);
		return jv_invalid();
	}
	return info;
}

/* Removes subscriber NAME's fifo and files. */
static void unlink_sub(int dfd, const char *name)
{
	char path[NAME_MAX_LEN + 8];
	unlinkat(dfd, name, 0);
	snprintf(path, sizeof path, "%s.info", name);
	unlinkat(dfd, path, 0);
	snprintf(path, sizeof path, "%s.drops", name);
	unlinkat(dfd, path, 0);
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
	unlink_sub(b->dfd, b->peers[i].name);
	drop_peer(b, i);
}

static void add_peer(struct bus *b, const char *name)
{
	if (!fifo_name(name) || find_peer(b, name) >= 0)
		return;
	jv info = read_info(b, name);
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
	p->fd = openat(b->dfd, p->name, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (p->fd >= 0)
		return 0;
	if (errno == ENXIO) /* nobody reads it: its subscriber died */
		peer_gone(b, i);
	else
		drop_peer(b, i);
	return -1;
}

/* Calls FN for each directory entry name. */
static int each_entry(struct bus *b, void (*fn)(struct bus *b, const char *name, void *ctx),
                      void *ctx)
{
	int fd = dup(b->dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return err_errno(b->dir);
	}
	rewinddir(d);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	/* Collect first: FN may unlink entries. */
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' && (!e->d_name[1] || !strcmp(e->d_name, "..")))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			char **v = realloc(names, cap * sizeof *v);
			if (!v)
				break;
			names = v;
		}
		if (!(names[n] = strdup(e->d_name)))
			break;
		n++;
	}
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		fn(b, names[i], ctx);
		free(names[i]);
	}
	free(names);
	return 0;
}

static void scan_one(struct bus *b, const char *name, void *ctx)
{
	(void)ctx;
	add_peer(b, name);
}

static void scan(struct bus *b)
{
	each_entry(b, scan_one, NULL);
	/* Open every peer now: a dead one is swept by this publish. */
	for (int i = b->n - 1; i >= 0; i--)
		peer_open(b, i);
}

/* Tells publishers that subscribers came or went. */
static void bump(struct bus *b)
{
	if (b->gen)
		__atomic_add_fetch(b->gen, 1, __ATOMIC_SEQ_CST);
}

/* Brings the peer cache up to date. */
static void refresh(struct bus *b)
{
	if (b->scanned && b->gen && !b->n &&
	    __atomic_load_n(b->gen, __ATOMIC_SEQ_CST) == b->seen)
		return; /* nothing came or went, and nobody to check on */
	if (b->gen)
		b->seen = __atomic_load_n(b->gen, __ATOMIC_SEQ_CST);
	if (!b->scanned) {
		b->watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (b->watch >= 0 &&
		    inotify_add_watch(b->watch, b->dir, IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
		                                                IN_DELETE_SELF) < 0) {
			close(b->watch);
			b->watch = -1;
		}
		b->scanned = 1;
		scan(b);
		return;
	}
	int64_t now = time_mono_ms();
	if (b->watch < 0) { /* no inotify: look again every time */
		scan(b);
	} else if (!b->gen || b->seen != b->read_at) {
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

int bus_wants(struct bus *b, const char *topic)
{
	return match(b, topic) > 0;
}

static void count_drops(struct bus *b, const char *name, int n)
{
	char path[NAME_MAX_LEN + 8], ones[PIPE_BUF];
	snprintf(path, sizeof path, "%s.drops", name);
	int fd = openat(b->dfd, path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	                b->shared ? 0660 : 0600);
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

/* The topic is checked once, when it changes. */
static int topic_ok(struct bus *b, const char *topic)
{
	return (b->topic[0] && !strcmp(b->topic, topic)) ||
	       bus_check_topic(topic, strlen(topic)) == 0;
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

int bus_resolve(struct db *db, const char *line, size_t len, char **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	/* Cheap test first: a reference event has "ref" and no "data". */
	if (!memmem(line, len, "\"ref\":", 6))
		return 0;
	jv ev = json_parse(line, len);
	const char *ref = json_str(ev, "ref", NULL);
	jv data = json_get(ev, "data");
	int rc = 0;
	if (ref && !jv_is_valid(data)) {
		if (!db)
			rc = BUS_NEED_DB;
		else
			rc = (*out = db_payload_get(db, ref, n)) ? 1 : -1;
	}
	jv_free(data);
	jv_free(ev);
	return rc;
}

int bus_subscribe(struct bus *b, const char *const patterns[], int n, struct bus_sub **out)
{
	*out = NULL;
	if (n <= 0)
		return err_set("no pattern to subscribe to");
	for (int i = 0; i < n; i++)
		if (bus_check_topic(patterns[i], strlen(patterns[i])) < 0)
			return -1;
	struct bus_sub *s = calloc(1, sizeof *s);
	if (!s)
		return err_errno("subscribe");
	s->b = b;
	s->rfd = s->wfd = -1;
	unsigned rnd = 0;
	if (getrandom(&rnd, sizeof rnd, 0) < 0)
		rnd = (unsigned)time_now_ms();
	char tmp[NAME_MAX_LEN], tmpinfo[NAME_MAX_LEN + 8], info[NAME_MAX_LEN + 8];
	snprintf(s->name, sizeof s->name, "sub.%ld.%08x", (long)getpid(), rnd);
	snprintf(tmp, sizeof tmp, ".tmp.%ld.%08x", (long)getpid(), rnd);
	snprintf(tmpinfo, sizeof tmpinfo, "%s.info", tmp);
	snprintf(info, sizeof info, "%s.info", s->name);
	int mode = b->shared ? 0660 : 0600;

	if (mkfifoat(b->dfd, tmp, (mode_t)mode) < 0) {
		err_errno(b->dir);
		goto fail;
	}
	fchmodat(b->dfd, tmp, (mode_t)mode, 0);
	if ((s->rfd = openat(b->dfd, tmp, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0 ||
	    (s->wfd = openat(b->dfd, tmp, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		err_errno("subscribe");
		goto fail;
	}
	for (int size = BUS_PIPE_SIZE; size >= 65536; size /= 2)
		if (fcntl(s->rfd, F_SETPIPE_SZ, size) >= 0)
			break;

	jv pats = jv_array();
	for (int i = 0; i < n; i++)
		pats = jv_array_append(pats, jv_string(patterns[i]));
	char since[32];
	jv o = json_set(json_set(json_set(jv_object(), "pid", jv_number(getpid())), "patterns",
	                         pats),
	                "since", jv_string(time_rfc3339(time_now_ms(), since)));
	jv text = jv_dump_string(o, 0);
	int fd = openat(b->dfd, tmpinfo, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	int ok = fd >= 0 && fchmod(fd, (mode_t)mode) == 0 &&
	         write(fd, jv_string_value(text), (size_t)jv_string_length_bytes(jv_copy(text))) ==
	                 jv_string_length_bytes(jv_copy(text)) &&
	         write(fd, "\n", 1) == 1;
	jv_free(text);
	if (fd >= 0)
		close(fd);
	if (!ok || renameat(b->dfd, tmpinfo, b->dfd, info) < 0 ||
	    renameat(b->dfd, tmp, b->dfd, s->name) < 0) {
		err_errno("subscribe");
		unlinkat(b->dfd, tmpinfo, 0);
		unlinkat(b->dfd, info, 0);
		goto fail;
	}
	bump(b);
	*out = s;
	return 0;
fail:
	unlinkat(b->dfd, tmp, 0);
	if (s->rfd >= 0)
		close(s->rfd);
	if (s->wfd >= 0)
		close(s->wfd);
	free(s);
	return -1;
}

int bus_sub_fd(const struct bus_sub *s)
{
	return s->rfd;
}

int bus_sub_read(struct bus_sub *s, int (*fn)(const char *line, size_t n, void *ctx), void *ctx)
{
	for (;;) {
		if (s->cap - s->len < 65536) {
			size_t cap = s->cap ? s->cap * 2 : 131072;
			char *nb = realloc(s->buf, cap);
			if (!nb)
				return err_errno("bus");
			s->buf = nb;
			s->cap = cap;
		}
		ssize_t k = read(s->rfd, s->buf + s->len, s->cap - s->len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN)
			return 0;
		if (k <= 0) /* cannot happen while we hold a write end */
			return k < 0 ? err_errno("bus") : 0;
		s->len += (size_t)k;
		size_t start = 0;
		char *nl;
		while ((nl = memchr(s->buf + start, '\n', s->len - start))) {
			size_t n = (size_t)(nl - (s->buf + start));
			int rc = fn(s->buf + start, n, ctx);
			start += n + 1;
			if (rc) {
				memmove(s->buf, s->buf + start, s->len - start);
				s->len -= start;
				return rc;
			}
		}
		memmove(s->buf, s->buf + start, s->len - start);
		s->len -= start;
	}
}

void bus_unsubscribe(struct bus_sub *s)
{
	if (!s)
		return;
	unlink_sub(s->b->dfd, s->name);
	bump(s->b);
	close(s->rfd);
	close(s->wfd);
	free(s->buf);
	free(s);
}

/* 1 if fifo NAME has a reader, 0 if not, -1 if it is not there. */
static int has_reader(struct bus *b, const char *name)
{
	int fd = openat(b->dfd, name, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return errno == ENXIO ? 0 : -1;
}

struct list_ctx {
	int (*fn)(const struct bus_peer_info *p, void *ctx);
	void *ctx;
	int stop;
};

static void list_one(struct bus *b, const char *name, void *arg)
{
	struct list_ctx *lc = arg;
	if (lc->stop || !fifo_name(name))
		return;
	char path[NAME_MAX_LEN + 8];
	struct stat st;
	jv info = read_info(b, name);
	struct bus_peer_info p = { .name = name, .pid = name_pid(name), .drops = 0, .queued = -1 };
	p.patterns = json_get(info, "patterns");
	if (!jv_is_valid(p.patterns)) {
		jv_free(p.patterns);
		p.patterns = jv_array();
	}
	snprintf(path, sizeof path, "%s.drops", name);
	if (fstatat(b->dfd, path, &st, 0) == 0)
		p.drops = (long)st.st_size;
	p.alive = has_reader(b, name) == 1;
	int fd = openat(b->dfd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	int q;
	if (fd >= 0 && ioctl(fd, FIONREAD, &q) == 0)
		p.queued = q;
	if (fd >= 0)
		close(fd);
	lc->stop = lc->fn(&p, lc->ctx) != 0;
	jv_free(p.patterns);
	jv_free(info);
}

int bus_list(struct bus *b, int (*fn)(const struct bus_peer_info *p, void *ctx), void *ctx)
{
	struct list_ctx lc = { fn, ctx, 0 };
	return each_entry(b, list_one, &lc);
}

static void clean_one(struct bus *b, const char *name, void *arg)
{
	int *removed = arg;
	char fifo[NAME_MAX_LEN];
	struct stat st;
	if (fifo_name(name)) {
		if (has_reader(b, name) == 0) {
			unlink_sub(b->dfd, name);
			++*removed;
		}
		return;
	}
	if (!strncmp(name, ".tmp.", 5)) { /* half-made by a process now dead */
		if (!pid_alive(name_pid(name)))
			unlinkat(b->dfd, name, 0);
		return;
	}
	if (strncmp(name, "sub.", 4))
		return;
	/* An .info or .drops without its fifo, its owner dead. */
	snprintf(fifo, sizeof fifo, "%s", name);
	char *dot = strrchr(fifo, '.');
	if (dot)
		*dot = 0;
	if (fstatat(b->dfd, fifo, &st, 0) < 0 && !pid_alive(name_pid(name)))
		unlinkat(b->dfd, name, 0);
}

int bus_clean(struct bus *b)
{
	int removed = 0;
	if (each_entry(b, clean_one, &removed) < 0)
		return -1;
	return removed;
}

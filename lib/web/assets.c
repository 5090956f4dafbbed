/* assets: the files of share/panic/web/ (static files and templates),
 * from the web root when it has them, else their compiled-in copies.
 * A name is a plain relative path: no "..", no hidden or empty part, no
 * backslash; a file reached through a symlink must still lie inside the
 * root. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <pthread.h>
#include <unistd.h>

#include "base/err.h"
#include "web/serveri.h"

static const struct {
	const char *ext, *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },   { ".css", "text/css; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" }, { ".json", "application/json" },
	{ ".svg", "image/svg+xml" },               { ".png", "image/png" },
	{ ".ico", "image/x-icon" },                { ".txt", "text/plain; charset=utf-8" },
};

const char *web_ctype(const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
		size_t e = strlen(types[i].ext);
		if (n > e && !strcmp(name + n - e, types[i].ext))
			return types[i].type;
	}
	return "application/octet-stream";
}

/* 1 if NAME is a plain relative path. */
static int plain(const char *name)
{
	if (!*name || strlen(name) > 200 || strchr(name, '\\'))
		return 0;
	for (const char *p = name; *p;) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (!n || p[0] == '.')
			return 0;
		if (!e)
			break;
		p = e + 1;
		if (!*p)
			return 0;
	}
	return 1;
}

/* An open fd of NAME under the root, or -1. */
static int open_in_root(struct web_server *s, const char *name, struct stat *st)
{
	if (!s->root || !plain(name))
		return -1;
	char path[PATH_MAX], real[PATH_MAX], root[PATH_MAX];
	if (snprintf(path, sizeof path, "%s/%s", s->root, name) >= (int)sizeof path)
		return -1;
	if (!realpath(s->root, root) || !realpath(path, real))
		return -1;
	size_t n = strlen(root);
	if (strncmp(real, root, n) || real[n] != '/')
		return -1; /* a symlink out of the root */
	int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -1;
	}
	return fd;
}

static const struct web_file *builtin(const char *name)
{
	if (!plain(name))
		return NULL;
	for (const struct web_file *f = web_builtin; f->name; f++)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}

/* ---- a cache of the root's files: looked at again at most once a
 * second, so an edited file shows at the next second ---- */

#define CACHE_MS 1000
#define CACHE_MAX 64

struct cached {
	char name[208];
	char *data; /* NULL: not in the root */
	size_t len;
	int64_t checked;
	struct stat st;
};

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct cached cache[CACHE_MAX];
static int ncache;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* NAME's content from the root as a malloc'd copy (*N), or NULL if the
 * root has no such file. Locked by the caller. */
static struct cached *lookup(struct web_server *s, const char *name)
{
	struct cached *c = NULL;
	for (int i = 0; i < ncache; i++)
		if (!strcmp(cache[i].name, name))
			c = &cache[i];
	int64_t t = now_ms();
	if (c && t - c->checked < CACHE_MS)
		return c;
	if (!c) {
		if (strlen(name) >= sizeof c->name)
			return NULL;
		if (ncache == CACHE_MAX) { /* full: forget the oldest look */
			int old = 0;
			for (int i = 1; i < ncache; i++)
				if (cache[i].checked < cache[old].checked)
					old = i;
			free(cache[old].data);
			cache[old] = cache[--ncache];
		}
		c = &cache[ncache++];
		memset(c, 0, sizeof *c);
		snprintf(c->name, sizeof c->name, "%s", name);
	}
	c->checked = t;
	struct stat st;
	int fd = open_in_root(s, name, &st);
	if (fd < 0) {
		free(c->data);
		c->data = NULL;
		return c;
	}
	if (c->data && st.st_ino == c->st.st_ino && st.st_size == c->st.st_size &&
	    st.st_mtim.tv_sec == c->st.st_mtim.tv_sec && st.st_mtim.tv_nsec == c->st.st_mtim.tv_nsec) {
		close(fd);
		return c;
	}
	char *b = malloc((size_t)st.st_size + 1);
	ssize_t got = b ? read(fd, b, (size_t)st.st_size) : -1;
	close(fd);
	free(c->data);
	c->data = NULL;
	if (got == (ssize_t)st.st_size) {
		b[got] = 0;
		c->data = b;
		c->len = (size_t)got;
		c->st = st;
	} else {
		free(b);
	}
	return c;
}

/* NAME from the root (cached) or built in, malloc'd with a NUL after. */
static char *content(struct web_server *s, const char *name, size_t *n)
{
	if (s->root && plain(name)) {
		pthread_mutex_lock(&cache_mu);
		struct cached *c = lookup(s, name);
		char *b = NULL;
		if (c && c->data && (b = malloc(c->len + 1))) {
			memcpy(b, c->data, c->len + 1);
			*n = c->len;
		}
		pthread_mutex_unlock(&cache_mu);
		if (b)
			return b;
	}
	const struct web_file *f = builtin(name);
	if (!f)
		return NULL;
	char *b = malloc(f->len + 1);
	if (b) {
		memcpy(b, f->data, f->len);
		b[f->len] = 0;
		*n = f->len;
	}
	return b;
}

char *web_file_read(struct web_server *s, const char *name, size_t *n)
{
	char *b = content(s, name, n);
	if (!b)
		err_set("no file '%s' in the web root or built in", name);
	return b;
}

int web_static(struct web_req *req, const char *name)
{
	struct web_conn *wc = req->conn;
	size_t n;
	char *b = content(req->srv, name, &n);
	if (!b)
		return web_error(req, 404, "not found");
	struct MHD_Response *r = MHD_create_response_from_buffer(n, b, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(b);
		return err_set("out of memory");
	}
	web_headers(r, web_ctype(name));
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	MHD_queue_response(wc->c, 200, r);
	MHD_destroy_response(r);
	req->answered = 1;
	return 0;
}

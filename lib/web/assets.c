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

char *web_file_read(struct web_server *s, const char *name, size_t *n)
{
	struct stat st;
	int fd = open_in_root(s, name, &st);
	if (fd >= 0) {
		char *b = malloc((size_t)st.st_size + 1);
		ssize_t got = b ? read(fd, b, (size_t)st.st_size) : -1;
		close(fd);
		if (got == (ssize_t)st.st_size) {
			b[got] = 0;
			*n = (size_t)got;
			return b;
		}
		free(b);
	}
	const struct web_file *f = builtin(name);
	if (!f) {
		err_set("no file '%s' in the web root or built in", name);
		return NULL;
	}
	char *b = malloc(f->len + 1);
	if (!b) {
		err_set("out of memory");
		return NULL;
	}
	memcpy(b, f->data, f->len);
	b[f->len] = 0;
	*n = f->len;
	return b;
}

int web_static(struct web_req *req, const char *name)
{
	struct web_conn *wc = req->conn;
	struct stat st;
	struct MHD_Response *r = NULL;
	int fd = open_in_root(req->srv, name, &st);
	if (fd >= 0) {
		r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
		if (!r)
			close(fd);
	} else {
		const struct web_file *f = builtin(name);
		if (!f)
			return web_error(req, 404, "not found");
		r = MHD_create_response_from_buffer(f->len, (void *)f->data, MHD_RESPMEM_PERSISTENT);
	}
	if (!r)
		return err_set("out of memory");
	web_headers(r, web_ctype(name));
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	MHD_queue_response(wc->c, 200, r);
	MHD_destroy_response(r);
	req->answered = 1;
	return 0;
}

/* archive: jobs in flight, their upload and their end; see archive.h.
 * The download, conversion and storing are steps.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/convert.h"
#include "archive/job.h"
#include "base/err.h"
#include "base/path.h"
#include "base/timeutil.h"
#include "http/sigv4.h"
#include "json/json.h"
#include "state/archive.h"
#include "state/db.h"

int archive_open(struct archive **out, const struct archive_opts *o, struct db *db)
{
	struct archive *a = calloc(1, sizeof *a);
	if (!a)
		return err_errno("archive");
	a->o = *o;
	a->db = db;
	a->stop_fd = -1;
	a->store.dirfd = -1;
	if (!a->o.image_format)
		a->o.image_format = "keep";
	if (!a->o.audio_format)
		a->o.audio_format = "keep";
	if (!a->o.max_bytes)
		a->o.max_bytes = ARCHIVE_MAX_BYTES;
	if (a->o.timeout_ms <= 0)
		a->o.timeout_ms = ARCHIVE_TIMEOUT_MS;
	char *dir = path_archive(o->dir);
	if (!dir || convert_format_check(MEDIA_IMAGE, a->o.image_format) < 0 ||
	    convert_format_check(MEDIA_AUDIO, a->o.audio_format) < 0 ||
	    convert_available(a->o.image_format) < 0 || convert_available(a->o.audio_format) < 0 ||
	    (a->o.s3.endpoint && s3_check(&a->o.s3) < 0) ||
	    (a->o.base_url && strncmp(a->o.base_url, "http://", 7) &&
	     strncmp(a->o.base_url, "https://", 8) &&
	     err_set("base URL '%s': not an http or https URL", a->o.base_url)) ||
	    store_open(&a->store, dir) < 0) {
		free(dir);
		archive_close(a);
		return -1;
	}
	free(dir);
	if (a->o.s3.endpoint && !(a->destination = s3_destination(&a->o.s3))) {
		archive_close(a);
		return err_errno("archive");
	}
	*out = a;
	return 0;
}

static void sweep(struct archive *a);

int archive_tx(struct archive *a)
{
	if (a->in_tx || !a->db)
		return 0;
	if (db_begin(a->db) < 0)
		return -1;
	a->in_tx = 1;
	return 0;
}

int archive_commit(struct archive *a)
{
	if (!a->in_tx)
		return 0;
	a->in_tx = 0;
	return db_commit(a->db);
}

void archive_close(struct archive *a)
{
	if (!a)
		return;
	while (a->jobs) {
		struct archive_step *s = a->jobs;
		if (s->j)
			archive_cancel(a, s->j);
		if (s->req_active) {
			http_cancel(&s->req);
			s->req_active = 0;
		}
		sweep(a);
	}
	archive_commit(a);
	store_close(&a->store);
	free(a->destination);
	free(a);
}

const char *archive_dir(const struct archive *a)
{
	return a->store.dir;
}

int archive_inflight(const struct archive *a)
{
	return a->n;
}

void archive_job_clear(struct archive_job *j)
{
	if (!j->done)
		return;
	jv_free(j->result);
	jv_free(j->error);
	j->result = j->error = jv_null();
	j->done = 0;
}

/* Ends S's job with its error or result; what S holds besides a request in
 * flight is released now, the rest by sweep(). */
static void end(struct archive_step *s, jv result, jv error)
{
	struct archive_job *j = s->j;
	if (s->step == S_DONE) {
		jv_free(result);
		jv_free(error);
		return;
	}
	s->step = S_DONE;
	if (s->running) {
		proc_kill(&s->proc);
		int status;
		proc_reap(&s->proc, &status, 1);
		s->running = 0;
	}
	proc_close(&s->proc);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	store_discard(&s->a->store, s->tmp);
	store_discard(&s->a->store, s->out);
	s->tmp[0] = s->out[0] = 0;
	s->j = NULL;
	if (j) {
		j->result = result;
		j->error = error;
		j->done = 1;
		s->a->finished++;
	} else {
		jv_free(result);
		jv_free(error);
	}
	/* jobs waiting for this one's upload go on by themselves */
	for (struct archive_step *w = s->a->jobs; w; w = w->next)
		if (w->step == S_UPLOAD_WAIT && !strcmp(w->sha, s->sha))
			step_stored(w);
}

void step_fail(struct archive_step *s, const char *kind, const char *stage, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	jv e = jv_object();
	e = json_set(e, "kind", jv_string(kind));
	e = json_set(e, "stage", jv_string(stage));
	e = json_set(e, "message", jv_string(msg));
	end(s, jv_null(), e);
}

/* The archived location of S's file: its object's URL, else the file
 * under base_url, else a file:// URL. */
static char *location(struct archive_step *s)
{
	char *u = NULL;
	if (s->upload_url)
		return strdup(s->upload_url);
	if (s->a->o.base_url) {
		size_t b = strlen(s->a->o.base_url);
		while (b && s->a->o.base_url[b - 1] == '/')
			b--;
		if (asprintf(&u, "%.*s/%s", (int)b, s->a->o.base_url, s->rel) < 0)
			return NULL;
		return u;
	}
	char *path = store_path(&s->a->store, s->rel);
	char *enc = path ? malloc(3 * strlen(path) + 1) : NULL;
	if (enc && asprintf(&u, "file://%s", sigv4_uri_encode(path, strlen(path), 1, enc)) < 0)
		u = NULL;
	free(enc);
	free(path);
	return u;
}

void step_finish(struct archive_step *s)
{
	char *url = location(s), *path = store_path(&s->a->store, s->rel);
	if (!url || !path) {
		free(url);
		free(path);
		step_fail(s, "storage", "store", "out of memory");
		return;
	}
	jv r = jv_object();
	r = json_set(r, "url", jv_string(url));
	r = json_set(r, "source", jv_string(s->url));
	r = json_set(r, "sha256", jv_string(s->sha));
	r = json_set(r, "path", jv_string(path));
	r = json_set(r, "bytes", jv_number((double)s->bytes));
	r = json_set(r, "content_type", jv_string(s->stored.type));
	r = json_set(r, "stored", jv_string(s->stored_new ? "new" : "existing"));
	r = json_set(r, "uploaded", s->a->destination
	                                    ? jv_string(s->uploaded_new ? "new" : "existing")
	                                    : jv_null());
	free(url);
	free(path);
	end(s, r, jv_null());
}

/* ---- the upload ---- */

static void on_uploaded(struct http_req *r)
{
	struct archive_step *s = r->user;
	s->req_active = 0;
	if (s->step == S_DONE)
		return;
	if (r->kind) {
		/* S3 says why in XML: <Error><Code>C</Code><Message>M</Message> */
		const char *c = r->resp ? strstr(r->resp, "<Code>") : NULL;
		const char *m = r->resp ? strstr(r->resp, "<Message>") : NULL;
		if (c && m && r->status)
			step_fail(s, r->kind, "upload", "HTTP %ld: %.*s: %.*s", r->status,
			          (int)strcspn(c + 6, "<"), c + 6, (int)strcspn(m + 9, "<"), m + 9);
		else
			step_fail(s, r->kind, "upload", "%s", r->msg);
		return;
	}
	char at[32];
	if (s->a->db && (archive_tx(s->a) < 0 ||
	                 db_archive_upload_put(s->a->db, s->sha, s->a->destination, s->upload_url,
	                                       time_rfc3339(time_now_ms(), at)) < 0)) {
		step_fail(s, "state", "upload", "%s", err_msg());
		return;
	}
	s->uploaded_new = 1;
	step_finish(s);
}

/* Reads the stored file whole, for its PUT. */
static char *slurp(struct archive_step *s)
{
	int fd = store_read(&s->a->store, s->rel);
	if (fd < 0)
		return NULL;
	char *buf = malloc((size_t)s->bytes + 1);
	size_t got = 0;
	while (buf && got < (size_t)s->bytes) {
		ssize_t k = read(fd, buf + got, (size_t)s->bytes - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			err_set("%s: %s", s->rel, k < 0 ? strerror(errno) : "shorter than recorded");
			free(buf);
			buf = NULL;
			break;
		}
		got += (size_t)k;
	}
	if (!buf && got == 0 && s->bytes)
		err_errno("archive");
	close(fd);
	return buf;
}

void step_stored(struct archive_step *s)
{
	struct archive *a = s->a;
	if (!a->destination) {
		step_finish(s);
		return;
	}
	char key[700];
	snprintf(key, sizeof key, "%s%s.%s", a->o.s3.prefix ? a->o.s3.prefix : "", s->sha,
	         s->stored.ext);
	free(s->upload_url);
	s->upload_url = NULL;
	jv done = a->db ? db_archive_upload(a->db, s->sha, a->destination) : jv_null();
	if (jv_get_kind(done) == JV_KIND_STRING) {
		s->upload_url = strdup(jv_string_value(done));
		jv_free(done);
		step_finish(s);
		return;
	}
	jv_free(done);
	for (struct archive_step *o = a->jobs; o; o = o->next) {
		if (o != s && o->step == S_UPLOAD && !strcmp(o->sha, s->sha)) {
			s->step = S_UPLOAD_WAIT; /* the other's end() moves this on */
			return;
		}
	}
	s->upload_url = s3_public_url(&a->o.s3, key);
	char *body = slurp(s);
	if (!s->upload_url || !body) {
		free(body);
		step_fail(s, "storage", "upload", "%s", err_msg());
		return;
	}
	http_free(&s->req);
	memset(&s->req, 0, sizeof s->req);
	if (s3_put(&a->o.s3, &s->req, key, s->stored.type, s->sha, body, (size_t)s->bytes,
	           time_now_ms()) < 0) {
		step_fail(s, "upload", "upload", "%s", err_msg());
		return;
	}
	s->req.on_done = on_uploaded;
	s->req.user = s;
	s->req.timeout_ms = a->o.timeout_ms;
	s->req.secret = a->o.s3.secret;
	s->req.max_body = 1 << 20; /* S3's answer to a PUT is small */
	s->step = S_UPLOAD;
	s->req_active = 1;
	http_start(&s->req);
}

/* ---- jobs ---- */

void archive_start(struct archive *a, struct archive_job *j, const char *url,
                   enum media_kind expect)
{
	struct archive_step *s = calloc(1, sizeof *s);
	j->done = 0;
	j->result = j->error = jv_null();
	j->p = s;
	if (!s || !(s->url = strdup(url))) {
		free(s);
		j->p = NULL;
		j->error = json_set(json_set(json_set(jv_object(), "kind", jv_string("storage")),
		                             "stage", jv_string("download")),
		                    "message", jv_string("out of memory"));
		j->done = 1;
		return;
	}
	s->a = a;
	s->j = j;
	s->fd = -1;
	s->expect = expect;
	s->proc.pid = -1;
	s->proc.in = s->proc.out = s->proc.err = s->proc.pidfd = -1;
	s->next = a->jobs;
	a->jobs = s;
	a->n++;
	step_download(s);
}

void archive_cancel(struct archive *a, struct archive_job *j)
{
	(void)a;
	struct archive_step *s = j->p;
	if (!s || j->done || s->j != j)
		return;
	if (s->req_active) {
		http_cancel(&s->req);
		s->req_active = 0;
	}
	step_fail(s, "canceled", s->step == S_DOWNLOAD ? "download" : s->step == S_CONVERT ? "convert"
	                                                                              : "upload",
	          "abandoned");
}

/* Frees the steps that are done and hold no request in flight. */
static void sweep(struct archive *a)
{
	for (struct archive_step **p = &a->jobs; *p;) {
		struct archive_step *s = *p;
		if (s->step != S_DONE || s->req_active) {
			p = &s->next;
			continue;
		}
		*p = s->next;
		a->n--;
		http_free(&s->req);
		free(s->url);
		free(s->upload_url);
		free(s);
	}
}

int archive_wait(struct archive *a, struct pollfd *extra, int n, int ms)
{
	enum { MAXFD = 512 };
	struct pollfd p[MAXFD];
	struct archive_step *owner[MAXFD];
	int np = 0;
	int64_t now = time_mono_ms(), deadline = -1;
	for (int i = 0; i < n && np < MAXFD; i++)
		p[np++] = extra[i];
	int nhttp = np;
	np += http_fds(p + np, MAXFD / 2, &deadline);
	int first = np;
	for (struct archive_step *s = a->jobs; s && np + 3 <= MAXFD; s = s->next) {
		int64_t d = -1;
		int k = step_fds(s, p + np, &d);
		for (int i = 0; i < k; i++)
			owner[np + i] = s;
		np += k;
		if (d >= 0 && (deadline < 0 || d < deadline))
			deadline = d;
	}
	int wait = ms;
	if (deadline >= 0) {
		int64_t left = deadline > now ? deadline - now : 0;
		if (wait < 0 || left < wait)
			wait = (int)left;
	}
	if (poll(p, (nfds_t)np, wait) < 0 && errno != EINTR)
		return err_errno("poll");
	for (int i = 0; i < n; i++)
		extra[i].revents = p[i].revents;
	now = time_mono_ms();
	http_step(p + nhttp, first - nhttp, now);
	for (struct archive_step *s = a->jobs; s; s = s->next)
		if (s->step == S_CONVERT)
			step_converter(s, p + first, np - first, now);
	(void)owner;
	sweep(a);
	if (archive_commit(a) < 0) /* what the jobs that ended stored is lost */
		return err_set("state: %s", err_msg());
	int f = a->finished;
	a->finished = 0;
	return f;
}

void archive_run(struct archive *a, struct archive_job *j, const char *url,
                 enum media_kind expect, int stop_fd, void (*tick)(void *), void *ctx)
{
	archive_start(a, j, url, expect);
	archive_commit(a);
	struct pollfd stop = { .fd = stop_fd, .events = POLLIN };
	while (!j->done) {
		if (tick)
			tick(ctx);
		if (archive_wait(a, &stop, stop_fd >= 0, 1000) < 0)
			break;
		if (!j->done && stop_fd >= 0 && (stop.revents & POLLIN))
			archive_cancel(a, j);
	}
	if (!j->done)
		archive_cancel(a, j);
	sweep(a);
	archive_commit(a);
}

void archive_hooks(struct archive *a, int stop_fd, void (*tick)(void *), void *ctx)
{
	a->stop_fd = stop_fd;
	a->tick = tick;
	a->tick_ctx = ctx;
}

jv archive_invocation(struct archive *a, const char *type, jv inv)
{
	enum media_kind k = !strcmp(type, "image") ? MEDIA_IMAGE : !strcmp(type, "audio") ? MEDIA_AUDIO
	                                                                                   : MEDIA_UNKNOWN;
	const char *url = json_str(inv, "output", NULL);
	if (k == MEDIA_UNKNOWN || !url)
		return inv;
	struct archive_job j = { 0 };
	archive_run(a, &j, url, k, a->stop_fd, a->tick, a->tick_ctx);
	jv info, meta = json_get(inv, "metadata");
	if (jv_get_kind(meta) != JV_KIND_OBJECT) {
		jv_free(meta);
		meta = jv_object();
	}
	if (jv_get_kind(j.error) == JV_KIND_NULL) {
		info = jv_copy(j.result);
		inv = json_set(inv, "output", json_get(j.result, "url"));
	} else {
		info = json_set(json_set(jv_object(), "source", jv_string(url)), "error",
		                jv_copy(j.error));
	}
	inv = json_set(inv, "metadata", json_set(meta, "archive", info));
	archive_job_clear(&j);
	return inv;
}

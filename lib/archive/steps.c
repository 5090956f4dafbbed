/* steps: a job's download, conversion and storing; see job.h and
 * archive.h. The upload and the end are archive.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "archive/convert.h"
#include "archive/job.h"
#include "base/err.h"
#include "base/timeutil.h"
#include "json/json.h"
#include "state/archive.h"
#include "state/db.h"

static const char *kind_word(enum media_kind k)
{
	return k == MEDIA_IMAGE ? "an image" : k == MEDIA_AUDIO ? "audio" : "an image or audio";
}

/* Looks at the first bytes: 0 to go on, -1 (the job failed) if they are not
 * what was expected. */
static int sniff(struct archive_step *s)
{
	s->sniffed = 1;
	s->media = media_sniff(s->head, s->nhead);
	enum media_kind k = s->media.kind;
	if (k == MEDIA_IMAGE || k == MEDIA_AUDIO) {
		if (s->expect == MEDIA_UNKNOWN || s->expect == k)
			return 0;
		step_fail(s, "wrong_type", "download", "got %s (%s), expected %s", media_kind_name(k),
		          s->media.type, kind_word(s->expect));
		return -1;
	}
	const char *ct = s->req.ctype[0] ? s->req.ctype : "none";
	if (!s->nhead)
		step_fail(s, "not_media", "download", "the answer is empty, not %s", kind_word(s->expect));
	else if (k == MEDIA_MARKUP)
		step_fail(s, "not_media", "download", "got an HTML page (Content-Type %s), not %s", ct,
		          kind_word(s->expect));
	else
		step_fail(s, "not_media", "download", "got %s (Content-Type %s), not %s",
		          media_kind_name(k), ct, kind_word(s->expect));
	return -1;
}

static int on_data(struct http_req *r, const char *p, size_t n)
{
	struct archive_step *s = r->user;
	if (s->step == S_DONE) /* canceled */
		return -1;
	if (!s->sniffed) {
		size_t k = MEDIA_SNIFF - s->nhead < n ? MEDIA_SNIFF - s->nhead : n;
		memcpy(s->head + s->nhead, p, k);
		s->nhead += k;
		if (s->nhead == MEDIA_SNIFF && sniff(s) < 0) {
			r->kind = "not_media"; /* the job has ended already */
			return -1;
		}
	}
	if ((size_t)s->size + n > s->a->o.max_bytes) {
		snprintf(r->msg, sizeof r->msg, "the answer is larger than %zu bytes", s->a->o.max_bytes);
		r->kind = "too_large";
		return -1;
	}
	sha256_update(&s->hash, p, n);
	for (size_t off = 0; off < n;) {
		ssize_t w = write(s->fd, p + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			snprintf(r->msg, sizeof r->msg, "%s/%s: %s", s->a->store.dir, s->tmp,
			         strerror(errno));
			r->kind = "storage";
			return -1;
		}
		off += (size_t)w;
	}
	s->size += (off_t)n;
	return 0;
}

static void convert_or_store(struct archive_step *s);

static void on_done(struct http_req *r)
{
	struct archive_step *s = r->user;
	s->req_active = 0;
	if (s->step == S_DONE) /* ended by sniff() */
		return;
	if (r->kind) {
		if (r->delivered > s->a->o.max_bytes) /* http/ stopped it */
			step_fail(s, "too_large", "download", "the answer is larger than %zu bytes",
			          s->a->o.max_bytes);
		else if (!strcmp(r->kind, "storage"))
			step_fail(s, "storage", "store", "%s", r->msg);
		else
			step_fail(s, r->kind, "download", "%s", r->msg);
		return;
	}
	if (!s->sniffed && sniff(s) < 0)
		return;
	unsigned char d[SHA256_LEN];
	sha256_final(&s->hash, d);
	sha256_hex(d, s->source);
	close(s->fd);
	s->fd = -1;
	http_free(&s->req);
	convert_or_store(s);
}

void step_download(struct archive_step *s)
{
	struct archive *a = s->a;
	if (strncmp(s->url, "http://", 7) && strncmp(s->url, "https://", 8)) {
		step_fail(s, "bad_url", "download", "not an http or https URL");
		return;
	}
	if (strlen(s->url) > 8192 || strpbrk(s->url, " \t\r\n")) {
		step_fail(s, "bad_url", "download", "not a URL (white space, or over 8192 bytes)");
		return;
	}
	if ((s->fd = store_temp(&a->store, s->tmp)) < 0) {
		step_fail(s, "storage", "store", "%s", err_msg());
		return;
	}
	sha256_init(&s->hash);
	s->req.url = strdup(s->url);
	s->req.on_data = on_data;
	s->req.on_done = on_done;
	s->req.user = s;
	s->req.max_body = a->o.max_bytes; /* error pages too */
	s->req.follow = 1;                /* a download carries no key */
	s->req.timeout_ms = a->o.timeout_ms;
	if (!s->req.url) {
		step_fail(s, "storage", "download", "out of memory");
		return;
	}
	s->step = S_DOWNLOAD;
	s->req_active = 1;
	http_start(&s->req);
}

/* ---- storing ---- */

/* Records the stored file and its source in the state file, in one
 * transaction. */
static int remember(struct archive_step *s)
{
	struct db *db = s->a->db;
	char at[32];
	if (!db)
		return 0;
	char *path = store_path(&s->a->store, s->rel);
	jv f = jv_object();
	f = json_set(f, "sha256", jv_string(s->sha));
	f = json_set(f, "path", jv_string(path ? path : s->rel));
	f = json_set(f, "bytes", jv_number((double)s->bytes));
	f = json_set(f, "content_type", jv_string(s->stored.type));
	f = json_set(f, "created_at", jv_string(time_rfc3339(time_now_ms(), at)));
	free(path);
	int rc = archive_tx(s->a);
	if (rc == 0 && (db_archive_file_put(db, f) < 0 ||
	                db_archive_source_put(db, s->source, s->format, s->sha) < 0))
		rc = -1;
	jv_free(f);
	return rc;
}

/* Moves the temporary file TMP (of BYTES bytes, hashed SHA, media M) into
 * place, then on to the upload. */
static void store(struct archive_step *s, char *tmp, const char *sha, off_t bytes,
                  struct media m)
{
	memcpy(s->sha, sha, SHA256_HEX);
	s->stored = m;
	s->bytes = bytes;
	store_name(sha, m.ext, s->rel);
	if (store_has(&s->a->store, s->rel, bytes)) {
		store_discard(&s->a->store, tmp); /* the same bytes are there */
	} else if (store_commit(&s->a->store, tmp, s->rel) < 0) {
		step_fail(s, "storage", "store", "%s", err_msg());
		return;
	} else {
		s->stored_new = 1;
	}
	tmp[0] = 0;
	if (remember(s) < 0) {
		step_fail(s, "state", "store", "%s", err_msg());
		return;
	}
	step_stored(s);
}

/* The source was stored in this format before, and the file is still
 * there: use it. */
static int known(struct archive_step *s)
{
	if (!s->a->db)
		return 0;
	jv sha = db_archive_source(s->a->db, s->source, s->format);
	if (jv_get_kind(sha) != JV_KIND_STRING) {
		jv_free(sha);
		return 0;
	}
	jv f = db_archive_file(s->a->db, jv_string_value(sha));
	jv_free(sha);
	const char *h = json_str(f, "sha256", NULL), *ct = json_str(f, "content_type", NULL);
	jv b = json_get(f, "bytes");
	int ok = 0;
	struct media m = media_of_type(ct);
	char rel[96];
	if (h && m.ext && strlen(h) == 64 && jv_get_kind(b) == JV_KIND_NUMBER) {
		store_name(h, m.ext, rel);
		if (store_has(&s->a->store, rel, (off_t)jv_number_value(b))) {
			memcpy(s->sha, h, SHA256_HEX);
			memcpy(s->rel, rel, sizeof rel);
			s->stored = m;
			s->bytes = (off_t)jv_number_value(b);
			ok = 1;
		}
	}
	jv_free(b);
	jv_free(f);
	return ok;
}

static void convert_or_store(struct archive_step *s)
{
	struct archive *a = s->a;
	const char *want = s->media.kind == MEDIA_IMAGE ? a->o.image_format : a->o.audio_format;
	const char *argv[CONVERT_ARGS], *ext;
	char *in = store_path(&a->store, s->tmp), *out = NULL;
	int conv = 0;
	s->format = want;
	if (known(s)) {
		store_discard(&a->store, s->tmp);
		s->tmp[0] = 0;
		free(in);
		step_stored(s);
		return;
	}
	char name[64];
	store_temp_name(&a->store, name);
	out = store_path(&a->store, name);
	if (in && out)
		conv = convert_plan(&s->media, want, in, out, argv, &ext);
	if (!conv) { /* kept as it is: already in the format, or none applies */
		store(s, s->tmp, s->source, s->size, s->media);
		goto out;
	}
	int fd = store_temp(&a->store, s->out); /* the converter's output, by that name */
	if (fd < 0) {
		step_fail(s, "storage", "store", "%s", err_msg());
		goto out;
	}
	close(fd);
	if (proc_spawn(&s->proc, (char *const *)argv, NULL) < 0) {
		step_fail(s, "convert", "convert", "%s: %s", argv[0], err_msg());
		goto out;
	}
	proc_close_fd(&s->proc.in);
	s->running = 1;
	s->step = S_CONVERT;
	s->deadline = time_mono_ms() + a->o.timeout_ms;
out:
	free(in);
	free(out);
}

int step_fds(struct archive_step *s, struct pollfd *p, int64_t *deadline)
{
	int n = 0;
	if (s->step != S_CONVERT)
		return 0;
	if (s->proc.err >= 0)
		p[n++] = (struct pollfd){ .fd = s->proc.err, .events = POLLIN };
	if (s->proc.out >= 0)
		p[n++] = (struct pollfd){ .fd = s->proc.out, .events = POLLIN };
	if (s->proc.pidfd >= 0)
		p[n++] = (struct pollfd){ .fd = s->proc.pidfd, .events = POLLIN };
	*deadline = s->proc.pidfd >= 0 || n ? s->deadline : time_mono_ms() + 50;
	return n;
}

/* The converted file: hashed, looked at, stored. */
static void converted(struct archive_step *s)
{
	struct archive *a = s->a;
	char rel[96];
	snprintf(rel, sizeof rel, "%s", s->out);
	int fd = openat(a->store.dirfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct sha256 h;
	unsigned char head[MEDIA_SNIFF], d[SHA256_LEN], buf[65536];
	size_t nhead = 0;
	off_t total = 0;
	if (fd < 0) {
		step_fail(s, "convert", "convert", "no converted file: %s", strerror(errno));
		return;
	}
	sha256_init(&h);
	for (ssize_t k; (k = read(fd, buf, sizeof buf)) != 0;) {
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			close(fd);
			step_fail(s, "storage", "convert", "reading the converted file: %s", strerror(errno));
			return;
		}
		if (nhead < MEDIA_SNIFF) {
			size_t c = MEDIA_SNIFF - nhead < (size_t)k ? MEDIA_SNIFF - nhead : (size_t)k;
			memcpy(head + nhead, buf, c);
			nhead += c;
		}
		sha256_update(&h, buf, (size_t)k);
		total += k;
	}
	close(fd);
	sha256_final(&h, d);
	struct media m = media_sniff(head, nhead), want = media_of_ext(s->format);
	if (m.kind != want.kind || !m.ext || strcmp(m.ext, want.ext)) {
		step_fail(s, "convert", "convert", "the converter did not make %s (got %s)", s->format,
		          media_kind_name(m.kind));
		return;
	}
	store_discard(&a->store, s->tmp); /* the download: the converted file is kept */
	s->tmp[0] = 0;
	char sha[SHA256_HEX];
	sha256_hex(d, sha);
	store(s, s->out, sha, total, m);
}

static void drain(int *fd, char *keep, size_t *nkeep, size_t cap)
{
	char buf[4096];
	for (;;) {
		ssize_t k = read(*fd, buf, sizeof buf);
		if (k > 0) {
			size_t c = keep && *nkeep + 1 < cap ? cap - 1 - *nkeep : 0;
			if (c > (size_t)k)
				c = (size_t)k;
			if (c) {
				memcpy(keep + *nkeep, buf, c);
				*nkeep += c;
				keep[*nkeep] = 0;
			}
			continue;
		}
		if (k == 0 || (errno != EAGAIN && errno != EINTR))
			proc_close_fd(fd);
		if (k < 0 && errno == EINTR)
			continue;
		return;
	}
}

void step_converter(struct archive_step *s, struct pollfd *p, int n, int64_t now)
{
	(void)p, (void)n;
	if (s->step != S_CONVERT)
		return;
	if (s->proc.err >= 0)
		drain(&s->proc.err, s->errtext, &s->nerr, sizeof s->errtext);
	if (s->proc.out >= 0)
		drain(&s->proc.out, NULL, NULL, 0);
	int status;
	int r = proc_reap(&s->proc, &status, 0);
	if (r == 0 && now >= s->deadline) {
		proc_kill(&s->proc);
		proc_reap(&s->proc, &status, 1);
		s->running = 0;
		proc_close(&s->proc);
		step_fail(s, "timeout", "convert", "the converter took over %d ms", s->a->o.timeout_ms);
		return;
	}
	if (r == 0)
		return;
	s->running = 0;
	proc_close(&s->proc);
	if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		for (size_t i = 0; i < s->nerr; i++)
			if (s->errtext[i] == '\n' || s->errtext[i] == '\r')
				s->errtext[i] = ' ';
		while (s->nerr && s->errtext[s->nerr - 1] == ' ')
			s->errtext[--s->nerr] = 0;
		if (r > 0 && WIFEXITED(status))
			step_fail(s, "convert", "convert", "the converter exited %d%s%s",
			          WEXITSTATUS(status), s->nerr ? ": " : "", s->errtext);
		else
			step_fail(s, "convert", "convert", "the converter was killed%s%s",
			          s->nerr ? ": " : "", s->errtext);
		return;
	}
	converted(s);
}

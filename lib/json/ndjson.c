/* ndjson: the shared record reader; see ndjson.h for the rules.
 *
 * The buffer holds at most maxline+1 bytes of one unfinished line plus what
 * a read(2) brings. Invariant: buf[pos..len) is unread input; a line being
 * discarded (too long) has already been reported.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/utf8.h"
#include "json/json.h"
#include "json/ndjson.h"

#define CHUNK 65536

struct nd_reader {
	int fd;
	int eof;
	int discarding; /* inside a too-long line, already reported */
	enum nd_mode mode;
	size_t maxline;
	char *buf;
	size_t cap, pos, len;
	long lineno;
	const char *raw; /* the last object record's compact text, or NULL */
	size_t rawlen;
};

struct nd_reader *nd_new(int fd, size_t maxline, enum nd_mode mode)
{
	struct nd_reader *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->fd = fd;
	r->mode = mode;
	r->maxline = maxline ? maxline : ND_MAXLINE_DEFAULT;
	r->cap = CHUNK;
	r->buf = malloc(r->cap);
	if (!r->buf) {
		free(r);
		return NULL;
	}
	return r;
}

void nd_free(struct nd_reader *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r);
}

long nd_lineno(const struct nd_reader *r)
{
	return r->lineno;
}

int nd_fd(const struct nd_reader *r)
{
	return r->fd;
}

/* Removes white space outside strings, in place; returns the new length.
 * S must be valid JSON text (it has been parsed). */
static size_t compact(char *s, size_t n)
{
	size_t o = 0;
	int in_str = 0, esc = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (in_str) {
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"')
				in_str = 0;
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			continue;
		} else if (c == '"') {
			in_str = 1;
		}
		s[o++] = c;
	}
	return o;
}

/* Turns one line (no newline) into a record or a bad-line reason. */
static int parse_line(struct nd_reader *r, char *s, size_t n, jv *rec)
{
	if (n && s[n - 1] == '\r')
		n--;
	size_t i = 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == n)
		return ND_EOF; /* blank: the caller skips it */
	if (memchr(s, 0, n))
		return err_set("NUL at byte %zu", (size_t)((char *)memchr(s, 0, n) - s) + 1), ND_BAD;
	size_t bad = utf8_check(s, n);
	if (bad != n)
		return err_set("invalid UTF-8 at byte %zu", bad + 1), ND_BAD;

	/* A record is a line that starts like a JSON object: "{" and then
	 * a key or the end of it. */
	size_t j = i + 1;
	while (j < n && (s[j] == ' ' || s[j] == '\t'))
		j++;
	int object = s[i] == '{' && (j == n || s[j] == '"' || s[j] == '}');
	if (r->mode == ND_JSON || (r->mode == ND_DETECT && object)) {
		size_t len = n - i;
		jv v = json_parse(s + i, len);
		if (jv_get_kind(v) == JV_KIND_OBJECT) {
			if (memchr(s + i, ' ', len) || memchr(s + i, '\t', len))
				len = compact(s + i, len);
			*rec = v;
			r->raw = s + i;
			r->rawlen = len;
			return ND_RECORD;
		}
		if (!jv_is_valid(v)) {
			char why[200];
			json_error_text(v, why, sizeof why);
			return err_set("invalid JSON: %s", why), ND_BAD;
		}
		const char *kind = jv_kind_name(jv_get_kind(v));
		jv_free(v);
		return err_set("expected an object, got %s %s", kind[0] == 'a' ? "an" : "a", kind),
		       ND_BAD;
	}
	*rec = json_set(jv_object(), "input", jv_string_sized(s, (int)n));
	return ND_RECORD;
}

/* Reads more input; returns 1 if bytes came, 0 at EOF, ND_AGAIN, or -1. */
static int fill(struct nd_reader *r, int wait)
{
	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
	}
	if (r->cap - r->len < CHUNK) {
		size_t cap = r->cap * 2;
		char *b = realloc(r->buf, cap);
		if (!b)
			return err_errno("read"), -1;
		r->buf = b;
		r->cap = cap;
	}
	if (!wait) {
		struct pollfd p = { .fd = r->fd, .events = POLLIN };
		if (poll(&p, 1, 0) == 0)
			return ND_AGAIN;
	}
	for (;;) {
		ssize_t k = read(r->fd, r->buf + r->len, r->cap - r->len);
		if (k > 0) {
			r->len += (size_t)k;
			return 1;
		}
		if (k == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return ND_AGAIN;
		return err_errno("read"), -1;
	}
}

int nd_parse(const char *s, size_t n, enum nd_mode mode, jv *rec)
{
	struct nd_reader r = { .maxline = ND_MAXLINE_DEFAULT, .mode = mode };
	char *copy = malloc(n + 1);
	if (!copy)
		return err_errno("parse"), ND_ERROR;
	memcpy(copy, s, n);
	int rc = parse_line(&r, copy, n, rec);
	free(copy);
	return rc;
}

const char *nd_raw(const struct nd_reader *r, size_t *len)
{
	*len = r->rawlen;
	return r->raw;
}

int nd_next(struct nd_reader *r, jv *rec, int wait)
{
	r->raw = NULL;
	r->rawlen = 0;
	for (;;) {
		char *start = r->buf + r->pos;
		size_t avail = r->len - r->pos;
		char *nl = memchr(start, '\n', avail);
		if (nl || (r->eof && avail)) {
			size_t n = nl ? (size_t)(nl - start) : avail;
			r->pos += nl ? n + 1 : n;
			if (r->discarding) {
				r->discarding = 0;
				continue;
			}
			r->lineno++;
			if (n > r->maxline)
				return err_set("line too long (%zu bytes, the limit is %zu)",
				               n, r->maxline), ND_BAD;
			int rc = parse_line(r, start, n, rec);
			if (rc == ND_EOF)
				continue;
			return rc;
		}
		if (r->eof)
			return ND_EOF;
		if (avail > r->maxline) {
			/* Too long: report now, drop what we hold, skip to newline. */
			r->pos = r->len = 0;
			if (!r->discarding) {
				r->discarding = 1;
				r->lineno++;
				return err_set("line too long (more than %zu bytes)",
				               r->maxline), ND_BAD;
			}
		}
		int rc = fill(r, wait);
		if (rc == 0)
			r->eof = 1;
		else if (rc != 1)
			return rc;
	}
}


/* sse: a text/event-stream cut into events; see sse.h. */
#include <stdlib.h>
#include <string.h>

#include "http/sse.h"

void sse_init(struct sse *s)
{
	memset(s, 0, sizeof *s);
	s->data = jv_invalid();
}

void sse_free(struct sse *s)
{
	free(s->line);
	jv_free(s->data);
	sse_init(s);
}

/* The value of field NAME if line L (N bytes) is one, and its length. */
static const char *field(const char *l, size_t n, const char *name, size_t *len)
{
	size_t k = strlen(name);
	if (n <= k || memcmp(l, name, k) || l[k] != ':')
		return NULL;
	k += 1 + (n > k + 1 && l[k + 1] == ' ');
	*len = n - k;
	return l + k;
}

/* One line L (N bytes, without its LF). */
static int line(struct sse *s, const char *l, size_t n, sse_event_fn *fn, void *user)
{
	if (n && l[n - 1] == '\r')
		n--;
	if (!n) { /* a blank line ends the event, if it has data */
		if (!jv_is_valid(s->data)) {
			*s->type = 0;
			return 0;
		}
		jv d = s->data;
		s->data = jv_invalid();
		int rc = fn(user, *s->type ? s->type : "message", jv_string_value(d),
		            (size_t)jv_string_length_bytes(jv_copy(d)));
		jv_free(d);
		*s->type = 0;
		return rc;
	}
	size_t len;
	const char *v = field(l, n, "event", &len);
	if (v) {
		if (len > sizeof s->type - 1)
			len = sizeof s->type - 1;
		memcpy(s->type, v, len);
		s->type[len] = 0;
		return 0;
	}
	if (!(v = field(l, n, "data", &len)))
		return 0; /* a comment, or id:, retry: */
	jv piece = jv_string_sized(v, (int)len);
	s->data = jv_is_valid(s->data)
	          ? jv_string_concat(jv_string_append_str(s->data, "\n"), piece) : piece;
	return 0;
}

int sse_feed(struct sse *s, const char *p, size_t n, sse_event_fn *fn, void *user)
{
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) : n;
		if (s->len + k > s->cap) {
			size_t cap = s->cap ? s->cap : 1024;
			while (cap < s->len + k)
				cap *= 2;
			char *b = realloc(s->line, cap);
			if (!b)
				return -1;
			s->line = b;
			s->cap = cap;
		}
		if (k)
			memcpy(s->line + s->len, p, k);
		s->len += k;
		if (!nl)
			return 0;
		size_t len = s->len;
		s->len = 0;
		if (line(s, s->line, len, fn, user) < 0)
			return -1;
		p += k + 1;
		n -= k + 1;
	}
	return 0;
}

int sse_end(struct sse *s, sse_event_fn *fn, void *user)
{
	size_t len = s->len;
	s->len = 0;
	if (len && line(s, s->line, len, fn, user) < 0)
		return -1;
	return line(s, "", 0, fn, user);
}

/* html: a growing buffer, escaping, and templates (html.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/utf8.h"
#include "web/html.h"
#include "web/serveri.h"

void html_init(struct html *h)
{
	memset(h, 0, sizeof *h);
}

void html_free(struct html *h)
{
	free(h->s);
	html_init(h);
}

static int room(struct html *h, size_t n)
{
	if (h->oom)
		return 0;
	if (h->n + n + 1 <= h->cap)
		return 1;
	size_t cap = h->cap ? h->cap : 1024;
	while (cap < h->n + n + 1)
		cap *= 2;
	char *s = realloc(h->s, cap);
	if (!s) {
		h->oom = 1;
		return 0;
	}
	h->s = s;
	h->cap = cap;
	return 1;
}

void html_put(struct html *h, const char *s, size_t n)
{
	if (!room(h, n))
		return;
	memcpy(h->s + h->n, s, n);
	h->n += n;
	h->s[h->n] = 0;
}

void html_puts(struct html *h, const char *s)
{
	html_put(h, s, strlen(s));
}

void html_printf(struct html *h, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !room(h, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(h->s + h->n, (size_t)n + 1, fmt, ap);
	va_end(ap);
	h->n += (size_t)n;
}

void html_escn(struct html *h, const char *s, size_t n)
{
	size_t i = 0, start = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		const char *rep = NULL;
		size_t len = 1;
		if (c == '&')
			rep = "&amp;";
		else if (c == '<')
			rep = "&lt;";
		else if (c == '>')
			rep = "&gt;";
		else if (c == '"')
			rep = "&quot;";
		else if (c == '\'')
			rep = "&#39;";
		else if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
			rep = "\xef\xbf\xbd";
		else if (c >= 0x80) {
			size_t ok = utf8_check(s + i, n - i < 4 ? n - i : 4);
			uint32_t cp = 0;
			if (ok) {
				cp = utf8_decode((const unsigned char *)s + i, &len);
				if (len > ok)
					ok = 0;
			}
			if (!ok) {
				rep = "\xef\xbf\xbd";
				len = 1;
			} else if (cp >= 0x80 && cp < 0xa0) {
				rep = "\xef\xbf\xbd";
			}
		}
		if (rep) {
			html_put(h, s + start, i - start);
			html_puts(h, rep);
			start = i + len;
		}
		i += len;
	}
	html_put(h, s + start, n - start);
}

void html_esc(struct html *h, const char *s)
{
	if (s)
		html_escn(h, s, strlen(s));
}

char *html_escape(const char *s)
{
	struct html h;
	html_init(&h);
	html_esc(&h, s);
	html_put(&h, "", 0);
	if (h.oom) {
		html_free(&h);
		return NULL;
	}
	return h.s;
}

static const char *var(const char *const vars[], const char *key, size_t n)
{
	for (int i = 0; vars && vars[i]; i += 2)
		if (strlen(vars[i]) == n && !memcmp(vars[i], key, n))
			return vars[i + 1] ? vars[i + 1] : "";
	return "";
}

int html_template(struct web_req *req, struct html *h, const char *name,
                  const char *const vars[])
{
	size_t n;
	char *t = web_file_read(req->srv, name, &n);
	if (!t)
		return -1;
	const char *p = t, *end = t + n;
	while (p < end) {
		const char *o = strstr(p, "{{");
		if (!o) {
			html_put(h, p, (size_t)(end - p));
			break;
		}
		html_put(h, p, (size_t)(o - p));
		int raw = o[2] == '{';
		const char *k = o + 2 + raw;
		const char *c = strstr(k, raw ? "}}}" : "}}");
		if (!c) {
			html_puts(h, o);
			break;
		}
		const char *v = var(vars, k, (size_t)(c - k));
		if (raw)
			html_puts(h, v);
		else
			html_esc(h, v);
		p = c + 2 + raw;
	}
	free(t);
	return h->oom ? err_set("out of memory") : 0;
}

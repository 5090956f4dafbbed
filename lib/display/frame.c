/* frame: a display as text for a terminal; see frame.h. */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "base/safe.h"
#include "display/frame.h"
#include "json/json.h"

struct buf {
	char *p;
	size_t n, cap;
	int oom;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap < b->n + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = 0;
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void spaces(struct buf *b, int n)
{
	for (; n > 0; n--)
		put(b, " ", 1);
}

/* The code point of the valid UTF-8 sequence at S, and its length. */
static unsigned decode(const unsigned char *s, size_t n, size_t *len)
{
	if (s[0] < 0x80 || n < 2) {
		*len = 1;
		return s[0];
	}
	if (s[0] < 0xe0) {
		*len = 2;
		return (unsigned)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
	}
	if (s[0] < 0xf0 || n < 4) {
		*len = n < 3 ? n : 3;
		return (unsigned)(s[0] & 0x0f) << 12 | (unsigned)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
	}
	*len = 4;
	return (unsigned)(s[0] & 0x07) << 18 | (unsigned)(s[1] & 0x3f) << 12 |
	       (unsigned)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
}

/* Columns of code point C, as the C.UTF-8 locale's wcwidth() says. */
static int cwidth(unsigned c)
{
	static locale_t utf8;
	static int tried;
	if (c < 0x7f)
		return c >= 0x20;
	if (!tried) {
		tried = 1;
		utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	}
	if (!utf8)
		return 1;
	locale_t old = uselocale(utf8);
	int w = wcwidth((wchar_t)c);
	uselocale(old);
	return w < 0 ? 1 : w;
}

int frame_width(const char *s, size_t n)
{
	int w = 0;
	for (size_t i = 0, k; i < n; i += k)
		w += cwidth(decode((const unsigned char *)s + i, n - i, &k));
	return w;
}

/* The bytes of S (N long) that fit in W columns, and their columns. */
static size_t fit(const char *s, size_t n, int w, int *used)
{
	size_t i = 0, k;
	int cols = 0;
	while (i < n) {
		int c = cwidth(decode((const unsigned char *)s + i, n - i, &k));
		if (cols + c > w)
			break;
		cols += c;
		i += k;
	}
	*used = cols;
	return i;
}

/* Text of a cell, laid out: up to H lines of W columns. */
struct cell {
	char **line;
	int *cols;
	int n, h, w;
	int cut; /* text was left out */
};

static void cell_add(struct cell *c, const char *s, size_t n)
{
	if (c->n == c->h) {
		c->cut = 1;
		return;
	}
	int used;
	size_t k = fit(s, n, c->w, &used);
	char *l = malloc(k + 1);
	if (!l)
		return;
	memcpy(l, s, k);
	l[k] = 0;
	c->line[c->n] = l;
	c->cols[c->n++] = used;
}

/* Word-wraps the N bytes of safe text S (newlines kept) into C. */
static void wrap(struct cell *c, const char *s, size_t n)
{
	while (n && c->n <= c->h) {
		size_t para = 0;
		while (para < n && s[para] != '\n')
			para++;
		const char *p = s;
		size_t left = para;
		do {
			int used;
			size_t k = fit(p, left, c->w, &used);
			if (k < left) { /* break at the last space that fits, if any */
				size_t b = k;
				while (b > 0 && p[b] != ' ')
					b--;
				if (b > 0)
					k = b;
				else if (k == 0) /* a character wider than the cell */
					k = left;
			}
			cell_add(c, p, k);
			p += k;
			left -= k;
			while (left && *p == ' ')
				p++, left--;
		} while (left && c->n < c->h);
		if (left)
			c->cut = 1;
		s += para;
		n -= para;
		if (n) /* the newline */
			s++, n--;
		if (n && c->n == c->h)
			c->cut = 1;
	}
}

/* The N bytes at S made harmless (newlines kept, tabs as spaces). */
static char *safe(const char *s, size_t n, size_t *len)
{
	char *t = malloc(3 * n + 1);
	if (!t)
		return NULL;
	*len = safe_text(s, n, t, SAFE_KEEP_NL | SAFE_KEEP_TAB);
	for (size_t i = 0; i < *len; i++)
		if (t[i] == '\t')
			t[i] = ' ';
	t[*len] = 0;
	return t;
}

static void add_text(struct cell *c, const char *s)
{
	size_t n;
	char *t = safe(s, strlen(s), &n);
	if (t)
		wrap(c, t, n);
	free(t);
}

/* Lays the view V out in a cell of W x H (H >= 1): header, then body. */
static void lay_out(struct cell *c, jv v, int w, int h)
{
	memset(c, 0, sizeof *c);
	c->w = w;
	c->h = h;
	c->line = calloc((size_t)h, sizeof *c->line);
	c->cols = calloc((size_t)h, sizeof *c->cols);
	if (!c->line || !c->cols) {
		c->h = 0;
		return;
	}
	const char *kind = json_str_or(v, "kind", "empty");
	if (!strcmp(kind, "empty"))
		return;
	char head[512];
	jv seq = json_get(v, "seq");
	snprintf(head, sizeof head, "#%.0f %s %s", jv_number_value(seq), json_str_or(v, "model", "?"),
	         json_str_or(v, "state", "?"));
	jv_free(seq);
	size_t hn;
	char *hs = safe(head, strlen(head), &hn);
	for (size_t i = 0; hs && i < hn; i++)
		if (hs[i] == '\n')
			hs[i] = ' ';
	if (hs)
		cell_add(c, hs, hn);
	free(hs);
	const char *text = json_str_or(v, "text", "");
	if (!strcmp(kind, "invoking"))
		add_text(c, "P! invoking…");
	else if (!strcmp(kind, "ready"))
		add_text(c, "… ready");
	else if (!strcmp(kind, "failed")) {
		add_text(c, "✗ failed");
		add_text(c, text);
	} else if (!strcmp(kind, "image")) {
		add_text(c, "▣ image");
		add_text(c, text);
	} else if (!strcmp(kind, "audio")) {
		add_text(c, "♪ audio");
		add_text(c, text);
	} else {
		add_text(c, text);
	}
	if (c->cut && c->n) { /* "…" at the end of the last line */
		int l = c->n - 1, used;
		size_t k = fit(c->line[l], strlen(c->line[l]), w - 1, &used);
		c->line[l][k] = 0;
		char *e = realloc(c->line[l], k + 4);
		if (e) {
			memcpy(e + k, "…", 4);
			c->line[l] = e;
			c->cols[l] = used + 1;
		}
	}
}

static void cell_free(struct cell *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->line[i]);
	free(c->line);
	free(c->cols);
}

/* The style of line L of a cell of kind KIND. */
static const char *style(const char *kind, int l)
{
	if (l == 0)
		return !strcmp(kind, "failed") ? "\033[1;31m" : !strcmp(kind, "invoking") ? "\033[1;33m"
		                                                                          : "\033[1m";
	return !strcmp(kind, "ready") ? "\033[2m" : NULL;
}

/* Splits N into K parts as evenly as possible: part I's size. */
static int part(int n, int k, int i)
{
	return n / k + (i < n % k);
}

static void end_line(struct buf *b, int flags)
{
	if (flags & FRAME_ANSI) {
		puts_(b, "\033[m\033[K\n");
		return;
	}
	while (b->n && b->p[b->n - 1] == ' ')
		b->n--;
	put(b, "\n", 1);
}

char *frame_render(const struct display_spec *spec, jv views, const char *title, int cols,
                   int lines, int flags, size_t *len)
{
	struct buf b = { 0 };
	int R = spec->mode == DISPLAY_GRID ? spec->rows : 1;
	int C = spec->mode == DISPLAY_GRID ? spec->cols : 1;
	int top = title && spec->mode == DISPLAY_GRID ? 1 : 0;
	int avail_w = cols - (C - 1), avail_h = lines - top - (R - 1);
	if (cols < 1 || lines < 1 || avail_w / C < 4 || avail_h / R < 2) {
		char msg[160];
		snprintf(msg, sizeof msg, "terminal too small (%dx%d) for this display", cols, lines);
		int used;
		put(&b, msg, fit(msg, strlen(msg), cols > 0 ? cols : 0, &used));
		end_line(&b, flags);
		for (int i = 1; i < lines; i++)
			end_line(&b, flags);
		goto out;
	}
	if (top) {
		size_t n;
		char *t = safe(title, strlen(title), &n);
		for (size_t i = 0; t && i < n; i++)
			if (t[i] == '\n')
				t[i] = ' ';
		int used;
		if (flags & FRAME_ANSI)
			puts_(&b, "\033[7m");
		if (t)
			put(&b, t, fit(t, n, cols, &used));
		if (flags & FRAME_ANSI)
			spaces(&b, cols - used);
		free(t);
		end_line(&b, flags);
	}
	for (int r = 0; r < R; r++) {
		int h = part(avail_h, R, r);
		struct cell cell[DISPLAY_MAX_SIDE];
		const char *kinds[DISPLAY_MAX_SIDE];
		for (int c = 0; c < C; c++) {
			jv v = jv_array_get(jv_copy(views), r * C + c);
			lay_out(&cell[c], v, part(avail_w, C, c), h);
			const char *k = json_str_or(v, "kind", "empty");
			kinds[c] = !strcmp(k, "failed") ? "failed" : !strcmp(k, "invoking") ? "invoking"
			           : !strcmp(k, "ready") ? "ready" : "other";
			jv_free(v);
		}
		for (int l = 0; l < h; l++) {
			for (int c = 0; c < C; c++) {
				if (c)
					puts_(&b, "│");
				const char *st = (flags & FRAME_ANSI) ? style(kinds[c], l) : NULL;
				if (st && l < cell[c].n)
					puts_(&b, st);
				if (l < cell[c].n)
					puts_(&b, cell[c].line[l]);
				if (st && l < cell[c].n)
					puts_(&b, "\033[m");
				spaces(&b, cell[c].w - (l < cell[c].n ? cell[c].cols[l] : 0));
			}
			end_line(&b, flags);
		}
		for (int c = 0; c < C; c++)
			cell_free(&cell[c]);
		if (r + 1 < R) {
			for (int c = 0; c < C; c++) {
				if (c)
					puts_(&b, "┼");
				for (int k = part(avail_w, C, c); k > 0; k--)
					puts_(&b, "─");
			}
			end_line(&b, flags);
		}
	}
out:
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*len = b.n;
	return b.p;
}

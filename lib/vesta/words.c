/* words: a VBML template's text laid out in a component, as vbml.parse
 * does; see words.h and layout.h.
 *
 * A component's template, on UTF-16 code units (u16.h):
 *   1. the colour-square emoji become {63}..{70}, then the props are
 *      rendered into it (mustache.h);
 *   2. words: every space becomes {0}; the text is cut around each "{...}"
 *      (from a '{' to the first '}' with no line break between) and at each
 *      '\n'; a piece that starts with '{' and ends with '}' is one cell;
 *      another piece longer than the width is cut into pieces of the width
 *      (line terminators other than '\n' are dropped there, as "." skips
 *      them);
 *   3. lines: a piece joins the line if it fits and the line is not the
 *      empty first one, else starts a new line; a one-cell piece joins
 *      while the line has room, and a {0} that would start a line is
 *      dropped; '\n' fills the line, so blank lines vanish and leading
 *      ones too;
 *   4. codes: '{' starts a code of one or two units up to '}' (read as
 *      JavaScript's Number() reads them, and refused unless a character
 *      code); other units through VBML's map (unknown ones take a cell and
 *      show blank);
 *   5. vertical then horizontal alignment (the quirks kept: "center" keeps
 *      a line's leading blanks, "justified" pads every line by the longest
 *      one's room), cut to the component's height x width.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "vesta/board.h"
#include "vesta/words.h"

static int add_piece(struct pieces *l, size_t a, size_t n, int kind)
{
	if (!n)
		return 0;
	if (l->n == l->cap) {
		size_t c = l->cap ? l->cap * 2 : 64;
		struct piece *q = realloc(l->p, c * sizeof *q);
		if (!q)
			return err_set("out of memory");
		l->p = q;
		l->cap = c;
	}
	l->p[l->n++] = (struct piece){ a, n, kind };
	return 0;
}

/* A piece of text between braces and newlines: one cell, as it is, or cut. */
static int text_piece(const struct u16 *s, size_t a, size_t n, long width, struct pieces *out)
{
	if (!n)
		return 0;
	if (s->s[a] == '{' && s->s[a + n - 1] == '}')
		return add_piece(out, a, n, TK_UNIT);
	if ((long)n <= width)
		return add_piece(out, a, n, TK_TEXT);
	size_t before = out->n;
	for (size_t i = a; i < a + n;) {
		if (u16_eol(s->s[i])) {
			i++;
			continue;
		}
		size_t j = i;
		while (j < a + n && !u16_eol(s->s[j]) && (long)(j - i) < width)
			j++;
		if (add_piece(out, i, j - i, TK_TEXT) < 0)
			return -1;
		i = j;
	}
	if (out->n == before)
		return err_set("a word of line breaks only");
	return 0;
}

int vbml_words(const struct u16 *s, long width, struct pieces *out)
{
	size_t text = 0;
	for (size_t i = 0; i <= s->n; i++) {
		size_t j = i;
		if (i < s->n && s->s[i] == '{') {
			for (j = i + 1; j < s->n && s->s[j] != '}' && !u16_eol(s->s[j]); j++)
				;
			if (j >= s->n || s->s[j] != '}')
				continue;
		} else if (i < s->n) {
			continue;
		}
		/* the text before i, cut at each '\n' */
		size_t from = text;
		for (size_t k = text; k <= i; k++) {
			if (k < i && s->s[k] != '\n')
				continue;
			if (text_piece(s, from, k - from, width, out) < 0)
				return -1;
			if (k < i && add_piece(out, k, 1, TK_NL) < 0)
				return -1;
			from = k + 1;
		}
		if (i < s->n && add_piece(out, i, j - i + 1, TK_UNIT) < 0)
			return -1;
		text = j + 1;
		i = j;
	}
	return 0;
}

static int new_line(struct vlines *v)
{
	if (v->n == v->cap) {
		size_t c = v->cap ? v->cap * 2 : 16;
		struct vline *q = realloc(v->l, c * sizeof *q);
		if (!q)
			return err_set("out of memory");
		v->l = q;
		v->cap = c;
	}
	v->l[v->n++] = (struct vline){ { 0 }, 0 };
	return 0;
}

void vbml_lines_free(struct vlines *v)
{
	for (size_t i = 0; i < v->n; i++)
		u16_free(&v->l[i].t);
	free(v->l);
}

int vbml_lines(const struct u16 *s, const struct pieces *w, long width, struct vlines *v)
{
	static const uint16_t blank[] = { '{', '0', '}' };
	if (new_line(v) < 0)
		return -1;
	for (size_t i = 0; i < w->n; i++) {
		const struct piece *p = &w->p[i];
		struct vline *last = &v->l[v->n - 1];
		const uint16_t *t = s->s + p->a;
		if (p->kind == TK_NL) {
			last->len = width;
			continue;
		}
		long len = p->kind == TK_UNIT ? 1 : (long)p->n;
		if (p->kind == TK_UNIT ? 1 + last->len > width
		                       : !(width >= len + last->len && last->t.n)) {
			if (p->kind == TK_UNIT && p->n == 3 && !memcmp(t, blank, sizeof blank))
				continue;
			if (new_line(v) < 0)
				return -1;
			last = &v->l[v->n - 1];
		}
		if (u16_append(&last->t, t, p->n) < 0)
			return -1;
		last->len += len;
	}
	return 0;
}

/* JavaScript's Number() of the 1 or 2 units at S: the value, or NaN. */
static double js_number(const uint16_t *s, size_t n)
{
	while (n && u16_space(s[0]))
		s++, n--;
	while (n && u16_space(s[n - 1]))
		n--;
	if (!n)
		return 0;
	char b[4];
	for (size_t i = 0; i < n; i++) {
		if (s[i] > 127)
			return NAN;
		b[i] = (char)s[i];
	}
	b[n] = 0;
	int sign = 1, digits = 0;
	const char *p = b;
	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	double v = 0, scale = 0;
	for (; *p; p++) {
		if (*p >= '0' && *p <= '9') {
			digits++;
			if (scale) {
				v += (*p - '0') * scale;
				scale /= 10;
			} else {
				v = v * 10 + (*p - '0');
			}
		} else if (*p == '.' && !scale) {
			scale = 0.1;
		} else {
			return NAN;
		}
	}
	return digits ? sign * v : NAN;
}

/* The cells of a line, as convertCharactersToCharacterCodes makes them. */
int vbml_cells(const struct u16 *t, struct cells *out)
{
	int code_next = 0, skip = 0;
	for (size_t i = 0; i < t->n; i++) {
		unsigned cur = t->s[i];
		int has_next = i + 1 < t->n;
		int close_next = has_next && t->s[i + 1] == '}';
		int code = -1;
		if (code_next) {
			double d = close_next ? js_number(t->s + i, 1)
			           : has_next ? js_number(t->s + i, 2) : NAN;
			if (d != d || d != floor(d) || !vesta_code_valid((long)d))
				return err_set("invalid character code {%.*s}", close_next ? 1 : 2,
				               cur < 128 && (!has_next || t->s[i + 1] < 128)
				                       ? (char[]){ (char)cur, has_next ? (char)t->s[i + 1] : '?', 0 }
				                       : "??");
			code = (int)d;
		}
		if (cur != '{' && cur != '}' && !skip)
			if (cells_push(out, code_next ? code : vesta_vbml_code(cur)) < 0)
				return -1;
		skip = code_next && !close_next;
		code_next = cur == '{';
	}
	return 0;
}

static long floordiv(long a, long b)
{
	long q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void vbml_align(struct cells *rows, size_t n, int h, int w, int justify, int valign,
                  struct grid *g)
{
	memset(g->c, 0, sizeof g->c);
	g->h = h;
	g->w = w;
	/* vertical: which row of ROWS each output row shows (-1: none) */
	long count = valign == A_TOP ? (long)n : h;
	long top = 0;
	if (valign == A_BOTTOM)
		top = (long)n - h;
	else if (valign == A_CENTER)
		top = -floordiv((long)h - (long)n, 2);
	else if (valign == A_JUSTIFIED)
		top = floordiv((long)n - h, 2); /* -ceil((h - n) / 2) */
	/* the stripped extent of each shown row: [a, b) */
	long longest = 0;
	for (long r = 0; r < count; r++) {
		long src = r + top;
		if (src < 0 || src >= (long)n)
			continue;
		struct cells *x = &rows[src];
		size_t a = 0;
		while (a < x->n && x->c[a] == 0)
			a++;
		if (justify == J_JUSTIFIED && (long)(x->n - a) > longest)
			longest = (long)(x->n - a);
	}
	longest -= 1;
	long pr = floordiv(w - longest, 2), pl = w - (longest + pr + 1);
	long jpad = pr > pl ? pl : pr;
	for (long r = 0; r < count && r < h; r++) {
		long src = r + top;
		if (src < 0 || src >= (long)n)
			continue;
		struct cells *x = &rows[src];
		long a = 0, b = (long)x->n;
		if (justify == J_LEFT || justify == J_JUSTIFIED)
			while (a < b && x->c[a] == 0)
				a++;
		else
			while (b > a && x->c[b - 1] == 0)
				b--;
		long len = b - a, off; /* out[c] = x[a + c - off] */
		switch (justify) {
		case J_LEFT: off = 0; break;
		case J_RIGHT: off = w - len; break;
		case J_JUSTIFIED: off = jpad; break;
		default: off = floordiv(w - len, 2); break;
		}
		for (long c = 0; c < w; c++) {
			long i = c - off;
			if (i >= 0 && i < len && x->c[a + i] > 0)
				g->c[r][c] = (uint8_t)x->c[a + i];
		}
	}
}


/* vbml: VBML laid out as vbml.parse of @vestaboard/vbml lays it out, cell
 * for cell; see layout.h.
 *
 * A VBML object's components are checked field by field (an unknown field
 * is refused), each laid out on its own grid: raw characters as they are,
 * a template after its props (mustache.h) through words.c. Components
 * flow left to right and wrap below the previous one (below it, not below
 * the tallest of its row, as vbml.parse does); absolute ones are then
 * drawn over them, cut at the board's right and bottom edges.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "json/json.h"
#include "vesta/layout.h"
#include "vesta/mustache.h"
#include "vesta/u16.h"
#include "vesta/words.h"

/* ---- fields ---- */

static int falsy(jv v)
{
	jv_kind k = jv_get_kind(v);
	return k == JV_KIND_INVALID || k == JV_KIND_NULL || k == JV_KIND_FALSE ||
	       (k == JV_KIND_NUMBER && jv_number_value(v) == 0) ||
	       (k == JV_KIND_STRING && !jv_string_length_bytes(jv_copy(v)));
}

/* 1 if the N bytes at S are one of the space-separated words of KEYS. */
static int one_of(const char *s, size_t n, const char *keys)
{
	for (const char *p = keys; *p;) {
		size_t k = strcspn(p, " ");
		if (k == n && !memcmp(p, s, n))
			return 1;
		p += k;
		p += *p == ' ';
	}
	return 0;
}

/* Fails if OBJ (borrowed) has a key not in the space-separated KEYS. */
static int only(jv obj, const char *what, const char *keys)
{
	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return err_set("%s: expected an object", what);
	int rc = 0;
	jv_object_foreach(obj, k, v)
	{
		const char *s = jv_string_value(k);
		size_t n = (size_t)jv_string_length_bytes(jv_copy(k));
		if (!rc && !one_of(s, n, keys))
			rc = err_set("%s: unknown field \"%.*s\" (VBML has %s)", what,
			             (int)strnlen(s, n < 64 ? n : 64), s, keys);
		jv_free(k);
		jv_free(v);
	}
	return rc;
}

/* A height or width: DEF if falsy, else an integer 1..MAX. */
static int size_field(jv style, const char *key, const char *what, int def, int max, int *out)
{
	jv v = jv_is_valid(style) ? json_get(style, key) : jv_invalid();
	*out = def;
	int rc = 0;
	if (!falsy(v)) {
		double d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : -1;
		if (d != floor(d) || d < 1 || d > max)
			rc = err_set("%s: %s must be a whole number from 1 to %d", what, key, max);
		else
			*out = (int)d;
	}
	jv_free(v);
	return rc;
}

static int enum_field(jv style, const char *key, const char *what, const char *const *names,
                      int def, int *out)
{
	jv v = jv_is_valid(style) ? json_get(style, key) : jv_invalid();
	*out = def;
	int rc = 0;
	if (!falsy(v)) {
		rc = err_set("%s: %s must be %s, %s, %s or %s", what, key, names[0], names[1],
		             names[2], names[3]);
		for (int i = 0; names[i]; i++) {
			if (jv_get_kind(v) == JV_KIND_STRING && !strcmp(jv_string_value(v), names[i])) {
				*out = i < 4 ? i : 2; /* "absolute" aligns as centre */
				rc = 0;
			}
		}
	}
	jv_free(v);
	return rc;
}

static const char *const justifies[] = { "left", "right", "center", "justified", NULL };
static const char *const aligns[] = { "top", "bottom", "center", "justified", "absolute", NULL };

/* Lays the template T of WHAT out on G (H x W). */
static int lay_template(jv tmpl, jv props, int h, int w, int justify, int valign, struct grid *g)
{
	struct u16 src = { 0 }, text = { 0 }, spaced = { 0 };
	struct pieces words = { 0 };
	struct vlines lines = { 0 };
	struct cells *rows = NULL;
	size_t nrows = 0;
	int rc = -1;
	if (jv_is_valid(tmpl) &&
	    u16_utf8(&src, jv_string_value(tmpl), (size_t)jv_string_length_bytes(jv_copy(tmpl)), 1) < 0)
		goto out;
	if (mustache_render(&src, props, &text) < 0)
		goto out;
	for (size_t i = 0; i < text.n; i++) {
		static const uint16_t blank[] = { '{', '0', '}' };
		if (text.s[i] == ' ' ? u16_append(&spaced, blank, 3) < 0 : u16_push(&spaced, text.s[i]) < 0)
			goto out;
	}
	if (vbml_words(&spaced, w, &words) < 0 || vbml_lines(&spaced, &words, w, &lines) < 0)
		goto out;
	size_t first = lines.n && !lines.l[0].t.n ? 1 : 0;
	nrows = lines.n - first;
	if (!(rows = calloc(nrows ? nrows : 1, sizeof *rows))) {
		err_set("out of memory");
		goto out;
	}
	for (size_t i = 0; i < nrows; i++)
		if (vbml_cells(&lines.l[first + i].t, &rows[i]) < 0)
			goto out;
	vbml_align(rows, nrows, h, w, justify, valign, g);
	rc = 0;
out:
	for (size_t i = 0; rows && i < nrows; i++)
		cells_free(&rows[i]);
	free(rows);
	vbml_lines_free(&lines);
	free(words.p);
	u16_free(&src);
	u16_free(&text);
	u16_free(&spaced);
	return rc;
}

static int component(jv c, const char *what, jv props, int defh, int defw, struct grid *g)
{
	if (only(c, what, "template rawCharacters style") < 0)
		return -1;
	jv style = json_get(c, "style");
	int rc = -1, h, w, justify, valign;
	char sw[80];
	snprintf(sw, sizeof sw, "%s.style", what);
	if (jv_is_valid(style) && only(style, sw, "justify align height width absolutePosition") < 0)
		goto out;
	if (json_has(c, "rawCharacters")) {
		struct vesta_board b;
		jv raw = json_get(c, "rawCharacters");
		rc = vesta_board_from(&b, raw);
		jv_free(raw);
		if (rc < 0) {
			err_set("%s.rawCharacters: %s", what, err_msg() + strlen("characters: "));
			goto out;
		}
		g->h = b.rows;
		g->w = b.cols;
		memcpy(g->c, b.c, sizeof g->c);
		goto out;
	}
	if (size_field(style, "height", sw, defh, VESTA_MAX_ROWS, &h) < 0 ||
	    size_field(style, "width", sw, defw, VESTA_MAX_COLS, &w) < 0 ||
	    enum_field(style, "justify", sw, justifies, J_LEFT, &justify) < 0 ||
	    enum_field(style, "align", sw, aligns, A_TOP, &valign) < 0)
		goto out;
	jv t = json_get(c, "template");
	if (jv_is_valid(t) && jv_get_kind(t) != JV_KIND_STRING) {
		jv_free(t);
		err_set("%s.template: expected a string", what);
		goto out;
	}
	rc = lay_template(t, props, h, w, justify, valign, g);
	jv_free(t);
	if (rc < 0)
		err_set("%s: %s", what, err_msg());
out:
	jv_free(style);
	return rc;
}

/* The absolute position of component C (borrowed), or 0 if it has none. */
static int position(jv c, const char *what, long *x, long *y)
{
	jv style = json_get(c, "style");
	jv pos = jv_get_kind(style) == JV_KIND_OBJECT ? json_get(style, "absolutePosition")
	                                              : jv_invalid();
	jv_free(style);
	if (falsy(pos)) {
		jv_free(pos);
		return 0;
	}
	char w[80];
	snprintf(w, sizeof w, "%s.style.absolutePosition", what);
	int rc = only(pos, w, "x y");
	for (int i = 0; rc == 0 && i < 2; i++) {
		jv v = json_get(pos, i ? "y" : "x");
		double d = falsy(v) ? 0 : jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : 0.5;
		if (d != floor(d) || fabs(d) > 1000)
			rc = err_set("%s.%s: expected a whole number", w, i ? "y" : "x");
		*(i ? y : x) = (long)d;
		jv_free(v);
	}
	jv_free(pos);
	return rc < 0 ? -1 : 1;
}

int vesta_vbml(jv v, int rows, int cols, int strict, struct vesta_board *b)
{
	if (only(v, "vbml", "components style props") < 0)
		return -1;
	jv style = json_get(v, "style");
	int h, w;
	if ((jv_is_valid(style) && only(style, "vbml.style", "height width") < 0) ||
	    size_field(style, "height", "vbml.style", rows, VESTA_MAX_ROWS, &h) < 0 ||
	    size_field(style, "width", "vbml.style", cols, VESTA_MAX_COLS, &w) < 0) {
		jv_free(style);
		return -1;
	}
	jv_free(style);
	if (strict && (h != rows || w != cols))
		return err_set("vbml: a %dx%d layout for a %dx%d board", h, w, rows, cols);
	vesta_board_clear(b, h, w);
	jv comps = json_get(v, "components");
	jv props = json_get(v, "props");
	if (falsy(props)) {
		jv_free(props);
		props = jv_object();
	}
	int rc = 0;
	if (jv_get_kind(comps) != JV_KIND_ARRAY)
		rc = err_set("vbml: components: expected an array");
	int n = rc ? 0 : jv_array_length(jv_copy(comps));
	struct grid *g = malloc(sizeof *g);
	if (!g)
		rc = err_set("out of memory");
	long top = 0, left = 0, height = 0;
	/* relative components flow, then absolute ones are drawn over them */
	for (int pass = 0; rc == 0 && pass < 2; pass++) {
		for (int i = 0; rc == 0 && i < n; i++) {
			jv c = jv_array_get(jv_copy(comps), i);
			char what[48];
			snprintf(what, sizeof what, "vbml.components[%d]", i);
			long x = 0, y = 0;
			int abs = jv_get_kind(c) == JV_KIND_OBJECT ? position(c, what, &x, &y) : 0;
			if (abs < 0 || (abs == pass && component(c, what, props, h, w, g) < 0)) {
				rc = -1;
			} else if (abs == pass && !pass) {
				if (left + g->w > w) {
					left = 0;
					top += height;
				}
				if (left + g->w > w)
					rc = err_set("%s: %d columns wide on a board of %d", what, g->w, w);
				else if (top + g->h > h)
					rc = err_set("%s: does not fit: %ld rows from row %ld on a board of %d", what,
					             (long)g->h, top, h);
				for (int r = 0; rc == 0 && r < g->h; r++)
					memcpy(b->c[top + r] + left, g->c[r], (size_t)g->w);
				left += g->w;
				height = g->h;
			} else if (abs == pass) {
				for (int r = 0; rc == 0 && r < g->h && y + r < h; r++) {
					if (y + r < 0)
						rc = err_set("%s: row %ld is above the board", what, y + r);
					for (int c2 = 0; rc == 0 && c2 < g->w && x + c2 < w; c2++)
						if (x + c2 >= 0)
							b->c[y + r][x + c2] = g->c[r][c2];
				}
			}
			jv_free(c);
		}
	}
	free(g);
	jv_free(comps);
	jv_free(props);
	return rc;
}

int vesta_text(const char *s, size_t n, int rows, int cols, struct vesta_board *b)
{
	if (rows == 6 && cols == 22)
		return vesta_classic(s, n, b);
	/* braces that make no {N} code become parentheses */
	char *t = malloc(n + 1);
	if (!t)
		return err_set("out of memory");
	for (size_t i = 0; i < n; i++) {
		t[i] = s[i];
		if (s[i] != '{' && s[i] != '}')
			continue;
		int ok = 0;
		if (s[i] == '{') {
			size_t j = i + 1;
			long v = 0;
			while (j < n && j < i + 3 && s[j] >= '0' && s[j] <= '9')
				v = v * 10 + s[j++] - '0';
			ok = j > i + 1 && j < n && s[j] == '}' && vesta_code_valid(v);
			if (ok) {
				memcpy(t + i, s + i, j - i + 1);
				i = j;
				continue;
			}
		}
		t[i] = s[i] == '{' ? '(' : ')';
	}
	jv tmpl = jv_string_sized(t, (int)n);
	free(t);
	jv style = json_set(json_set(jv_object(), "justify", jv_string("center")), "align",
	                    jv_string("center"));
	jv comp = json_set(json_set(jv_object(), "template", tmpl), "style", style);
	jv v = json_set(jv_object(), "components", jv_array_append(jv_array(), comp));
	int rc = vesta_vbml(v, rows, cols, 0, b);
	jv_free(v);
	return rc;
}

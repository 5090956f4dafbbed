/* mustache: VBML props rendered as mustache.js 4 does; see mustache.h.
 *
 * Parsing follows mustache.js step for step, so that white space goes
 * where it goes there: text becomes one token per code unit, each line's
 * white space tokens are remembered, and a line that held a tag but
 * nothing else (no text, no variable) loses them all, its newline
 * included. Then text tokens are joined, sections nested, and the tree
 * rendered against a stack of views.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "json/json.h"
#include "vesta/mustache.h"

struct tok {
	char type;      /* 't' text, 'n' name, '&', '#', '^', '/', '>', '!', '=' */
	int gone;       /* removed with a standalone line */
	size_t a, b;    /* text: [a, b) of the template; tags: the name */
	size_t close;   /* '#' '^': index of the matching '/' */
};

struct parser {
	const uint16_t *s;
	size_t n, pos;
	uint16_t open[16], close[16];
	size_t nopen, nclose;
	struct tok *t;
	size_t nt, cap;
};

static int add(struct parser *p, struct tok k)
{
	if (p->nt == p->cap) {
		size_t c = p->cap ? p->cap * 2 : 64;
		struct tok *q = realloc(p->t, c * sizeof *q);
		if (!q)
			return err_set("out of memory");
		p->t = q;
		p->cap = c;
	}
	p->t[p->nt++] = k;
	return 0;
}

static int at(const struct parser *p, size_t i, const uint16_t *d, size_t n)
{
	return i + n <= p->n && !memcmp(p->s + i, d, n * sizeof *d);
}

/* Where /\s*D/ first matches at or after FROM, or N; *END past it. */
static size_t search(const struct parser *p, size_t from, const uint16_t *d, size_t n,
                     size_t *end)
{
	for (size_t q = from; q + n <= p->n; q++) {
		if (!at(p, q, d, n))
			continue;
		size_t s = q;
		while (s > from && u16_space(p->s[s - 1]))
			s--;
		*end = q + n;
		return s;
	}
	*end = p->n;
	return p->n;
}

/* Where D first occurs at or after FROM, or N. */
static size_t find(const struct parser *p, size_t from, const uint16_t *d, size_t n)
{
	for (size_t q = from; q + n <= p->n; q++)
		if (at(p, q, d, n))
			return q;
	return p->n;
}

static size_t skip_space(const struct parser *p, size_t i)
{
	while (i < p->n && u16_space(p->s[i]))
		i++;
	return i;
}

/* /\s*D/ at I: the position after it, or 0 if it does not match. */
static size_t match(const struct parser *p, size_t i, const uint16_t *d, size_t n)
{
	size_t j = skip_space(p, i);
	return at(p, j, d, n) ? j + n : 0;
}

static int set_tags(struct parser *p, size_t a, size_t b)
{
	size_t i = a;
	while (i < b && !u16_space(p->s[i]))
		i++;
	size_t j = i;
	while (j < b && u16_space(p->s[j]))
		j++;
	size_t k = j;
	while (k < b && !u16_space(p->s[k]))
		k++;
	if (i == a || j == i || k == j || i - a > 15 || k - j > 14)
		return err_set("mustache: invalid tags");
	memcpy(p->open, p->s + a, (i - a) * sizeof *p->s);
	p->nopen = i - a;
	memcpy(p->close, p->s + j, (k - j) * sizeof *p->s);
	p->nclose = k - j;
	return 0;
}

static int parse(struct parser *p)
{
	size_t spaces_from = 0; /* the current line's tokens start here */
	int has_tag = 0, non_space = 0;
	size_t stack[64], depth = 0;
	uint16_t curly[17];
	while (p->pos < p->n) {
		size_t q = find(p, p->pos, p->open, p->nopen);
		for (; p->pos < q; p->pos++) {
			unsigned c = p->s[p->pos];
			if (!u16_space(c))
				non_space = 1;
			if (add(p, (struct tok){ .type = 't', .a = p->pos, .b = p->pos + 1 }) < 0)
				return -1;
			if (c == '\n') {
				if (has_tag && !non_space)
					for (size_t i = spaces_from; i < p->nt; i++)
						if (p->t[i].type == 't' && u16_space(p->s[p->t[i].a]))
							p->t[i].gone = 1;
				spaces_from = p->nt;
				has_tag = non_space = 0;
			}
		}
		if (q == p->n)
			break;
		/* the opening tag and the white space after it */
		size_t i = skip_space(p, q + p->nopen);
		has_tag = 1;
		char type = 'n';
		if (i < p->n && p->s[i] < 128 && strchr("#^/>{&=!", p->s[i]) && p->s[i]) {
			type = (char)p->s[i++];
			i = skip_space(p, i);
		}
		size_t a = i, b, after;
		p->pos = i;
		if (type == '=') {
			static const uint16_t eq[] = { '=' };
			b = search(p, i, eq, 1, &after);
			p->pos = after;
			size_t e2;
			p->pos = search(p, p->pos, p->close, p->nclose, &e2);
		} else if (type == '{') {
			curly[0] = '}';
			memcpy(curly + 1, p->close, p->nclose * sizeof *curly);
			b = search(p, i, curly, p->nclose + 1, &after);
			p->pos = b;
			static const uint16_t cb[] = { '}' };
			size_t m = match(p, p->pos, cb, 1);
			if (m)
				p->pos = m;
			size_t e2;
			p->pos = search(p, p->pos, p->close, p->nclose, &e2);
			type = '&';
		} else {
			b = search(p, i, p->close, p->nclose, &after);
			p->pos = b;
		}
		size_t m = match(p, p->pos, p->close, p->nclose);
		if (!m)
			return err_set("mustache: unclosed tag at %zu", p->pos);
		p->pos = m;
		if (add(p, (struct tok){ .type = type, .a = a, .b = b }) < 0)
			return -1;
		if (type == '#' || type == '^') {
			if (depth == sizeof stack / sizeof *stack)
				return err_set("mustache: sections nested too deep");
			stack[depth++] = p->nt - 1;
		} else if (type == '/') {
			if (!depth)
				return err_set("mustache: unopened section at %zu", q);
			struct tok *o = &p->t[stack[--depth]];
			if (o->b - o->a != b - a || memcmp(p->s + o->a, p->s + a, (b - a) * sizeof *p->s))
				return err_set("mustache: unclosed section at %zu", q);
			o->close = p->nt - 1;
		} else if (type == 'n' || type == '&') {
			non_space = 1;
		} else if (type == '=') {
			if (set_tags(p, a, b) < 0)
				return -1;
		}
	}
	if (has_tag && !non_space)
		for (size_t i = spaces_from; i < p->nt; i++)
			if (p->t[i].type == 't' && u16_space(p->s[p->t[i].a]))
				p->t[i].gone = 1;
	if (depth)
		return err_set("mustache: unclosed section at %zu", p->n);
	return 0;
}

/* ---- values ---- */

char *mustache_jsnum(double x, char *buf)
{
	if (isnan(x))
		return strcpy(buf, "NaN");
	if (isinf(x))
		return strcpy(buf, x < 0 ? "-Infinity" : "Infinity");
	if (x == 0)
		return strcpy(buf, "0");
	char e[40], d[20];
	int k = 0, exp = 0;
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(e, sizeof e, "%.*e", prec - 1, fabs(x));
		if (strtod(e, NULL) == fabs(x) || prec == 17)
			break;
	}
	for (char *p = e; *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9')
			d[k++] = *p;
	while (k > 1 && d[k - 1] == '0')
		k--;
	d[k] = 0;
	exp = atoi(strchr(e, 'e') + 1);
	int n = exp + 1; /* the decimal point's place in d */
	char *o = buf;
	if (x < 0)
		*o++ = '-';
	if (k <= n && n <= 21) {
		o += sprintf(o, "%s", d);
		for (int i = k; i < n; i++)
			*o++ = '0';
		*o = 0;
	} else if (0 < n && n <= 21) {
		o += sprintf(o, "%.*s.%s", n, d, d + n);
	} else if (-6 < n && n <= 0) {
		o += sprintf(o, "0.");
		for (int i = 0; i < -n; i++)
			*o++ = '0';
		sprintf(o, "%s", d);
	} else {
		if (k == 1)
			o += sprintf(o, "%s", d);
		else
			o += sprintf(o, "%c.%s", d[0], d + 1);
		sprintf(o, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
	}
	return buf;
}

static int truthy(jv v)
{
	switch (jv_get_kind(v)) {
	case JV_KIND_INVALID:
	case JV_KIND_NULL:
	case JV_KIND_FALSE: return 0;
	case JV_KIND_NUMBER: return jv_number_value(v) != 0 && !isnan(jv_number_value(v));
	case JV_KIND_STRING: return jv_string_length_bytes(jv_copy(v)) > 0;
	default: return 1;
	}
}

/* String(V) (borrowed) appended to OUT, HTML-escaped if ESC. */
static int to_string(jv v, int esc, struct u16 *out)
{
	char num[32];
	switch (jv_get_kind(v)) {
	case JV_KIND_NULL:
	case JV_KIND_INVALID: return esc < 0 ? 0 : u16_ascii(out, esc < 2 ? "null" : "");
	case JV_KIND_TRUE: return u16_ascii(out, "true");
	case JV_KIND_FALSE: return u16_ascii(out, "false");
	case JV_KIND_NUMBER: return u16_ascii(out, mustache_jsnum(jv_number_value(v), num));
	case JV_KIND_OBJECT: return u16_ascii(out, "[object Object]");
	case JV_KIND_ARRAY: {
		int n = jv_array_length(jv_copy(v));
		for (int i = 0; i < n; i++) {
			jv x = jv_array_get(jv_copy(v), i);
			int rc = (i && u16_push(out, ',') < 0) ? -1
			         : to_string(x, esc ? 3 : 2, out);
			jv_free(x);
			if (rc < 0)
				return -1;
		}
		return 0;
	}
	case JV_KIND_STRING: break;
	}
	if (!esc || esc == 2)
		return u16_utf8(out, jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)), 0);
	struct u16 t = { 0 };
	int rc = u16_utf8(&t, jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)), 0);
	for (size_t i = 0; rc == 0 && i < t.n; i++) {
		const char *r = NULL;
		switch (t.s[i]) {
		case '&': r = "&amp;"; break;
		case '<': r = "&lt;"; break;
		case '>': r = "&gt;"; break;
		case '"': r = "&quot;"; break;
		case '\'': r = "&#39;"; break;
		case '/': r = "&#x2F;"; break;
		case '`': r = "&#x60;"; break;
		case '=': r = "&#x3D;"; break;
		}
		rc = r ? u16_ascii(out, r) : u16_push(out, t.s[i]);
	}
	u16_free(&t);
	return rc;
}

/* V[NAME] (V borrowed) as JavaScript would give it, and whether V has it
 * (*HIT); PRIM: a string's own properties count too. */
static jv member(jv v, const char *name, int prim, int *hit)
{
	*hit = 0;
	jv_kind k = jv_get_kind(v);
	if (k == JV_KIND_OBJECT) {
		jv x = jv_object_get(jv_copy(v), jv_string(name));
		*hit = jv_is_valid(x);
		return x;
	}
	char *end;
	long i = strtol(name, &end, 10);
	int index = *name && !*end && (name[0] != '0' || !name[1]) && name[0] != '-' && name[0] != '+';
	if (k == JV_KIND_ARRAY) {
		int n = jv_array_length(jv_copy(v));
		if (!strcmp(name, "length")) {
			*hit = 1;
			return jv_number(n);
		}
		if (index && i < n) {
			*hit = 1;
			return jv_array_get(jv_copy(v), (int)i);
		}
	} else if (k == JV_KIND_STRING) {
		struct u16 t = { 0 };
		u16_utf8(&t, jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)), 0);
		jv x = jv_invalid();
		if (!strcmp(name, "length")) {
			x = jv_number((double)t.n);
		} else if (index && (size_t)i < t.n) {
			char u[8];
			unsigned c = t.s[i];
			int w = c < 0x80 ? (u[0] = (char)c, 1)
			        : c < 0x800 ? (u[0] = (char)(0xc0 | c >> 6), u[1] = (char)(0x80 | (c & 0x3f)), 2)
			        : (u[0] = (char)(0xe0 | c >> 12), u[1] = (char)(0x80 | ((c >> 6) & 0x3f)),
			           u[2] = (char)(0x80 | (c & 0x3f)), 3);
			x = jv_string_sized(u, w);
		}
		u16_free(&t);
		*hit = prim && jv_is_valid(x);
		return x;
	}
	return jv_invalid();
}

struct render {
	const struct parser *p;
	jv stack[64];
	int depth;
	struct u16 *out;
};

/* The name [A, B) of the template as UTF-8 into NAME (room for N). */
static void name_utf8(const struct parser *p, size_t a, size_t b, char *name, size_t n)
{
	size_t k = 0;
	for (size_t i = a; i < b && k + 4 < n; i++) {
		unsigned c = p->s[i];
		if (c >= 0xd800 && c < 0xdc00 && i + 1 < b && p->s[i + 1] >= 0xdc00 && p->s[i + 1] < 0xe000)
			c = 0x10000 + ((c - 0xd800) << 10) + (p->s[++i] - 0xdc00);
		if (c < 0x80) {
			name[k++] = (char)c;
		} else if (c < 0x800) {
			name[k++] = (char)(0xc0 | c >> 6);
			name[k++] = (char)(0x80 | (c & 0x3f));
		} else if (c < 0x10000) {
			name[k++] = (char)(0xe0 | c >> 12);
			name[k++] = (char)(0x80 | ((c >> 6) & 0x3f));
			name[k++] = (char)(0x80 | (c & 0x3f));
		} else {
			name[k++] = (char)(0xf0 | c >> 18);
			name[k++] = (char)(0x80 | ((c >> 12) & 0x3f));
			name[k++] = (char)(0x80 | ((c >> 6) & 0x3f));
			name[k++] = (char)(0x80 | (c & 0x3f));
		}
	}
	name[k] = 0;
}

/* Walks the dotted NAME down from V (consumed) as mustache.js does; the
 * value, and *HIT if the last step found a property. */
static jv walk(jv v, char *name, int *hit)
{
	*hit = 0;
	for (char *part = name;;) {
		char *dot = strchr(part, '.');
		if (dot)
			*dot = 0;
		jv_kind k = jv_get_kind(v);
		if (k == JV_KIND_NULL || k == JV_KIND_INVALID) {
			if (dot)
				*dot = '.';
			return v;
		}
		int h;
		jv x = member(v, part, 1, &h);
		jv_free(v);
		v = x;
		if (!dot) {
			*hit = h;
			return v;
		}
		*dot = '.';
		part = dot + 1;
	}
}

/* The value of the name [A, B) in the context stack (owned), or invalid. */
static int lookup(struct render *r, size_t a, size_t b, jv *val)
{
	char name[1024];
	name_utf8(r->p, a, b, name, sizeof name);
	if (!strcmp(name, ".")) {
		*val = jv_copy(r->stack[r->depth - 1]);
		return 0;
	}
	char *dot = strchr(name, '.');
	for (int d = r->depth - 1; d >= 0; d--) {
		jv v = jv_copy(r->stack[d]);
		int hit = 0;
		if (dot && dot != name) {
			v = walk(v, name, &hit);
		} else {
			jv_kind k = jv_get_kind(v);
			if (k == JV_KIND_NULL || k == JV_KIND_INVALID) {
				jv_free(v);
				return err_set("mustache: cannot read '%s' of null", name);
			}
			jv x = member(v, name, 0, &hit);
			jv_free(v);
			v = x;
		}
		if (hit) {
			*val = v;
			return 0;
		}
		jv_free(v);
	}
	*val = jv_invalid();
	return 0;
}

static int run(struct render *r, size_t from, size_t to);

static int push_run(struct render *r, jv view, size_t from, size_t to)
{
	if (r->depth == (int)(sizeof r->stack / sizeof *r->stack)) {
		jv_free(view);
		return err_set("mustache: sections nested too deep");
	}
	r->stack[r->depth++] = view;
	int rc = run(r, from, to);
	jv_free(r->stack[--r->depth]);
	return rc;
}

static int run(struct render *r, size_t from, size_t to)
{
	const struct parser *p = r->p;
	for (size_t i = from; i < to; i++) {
		const struct tok *t = &p->t[i];
		if (t->gone)
			continue;
		if (t->type == 't') {
			if (u16_push(r->out, p->s[t->a]) < 0)
				return -1;
			continue;
		}
		if (t->type == '!' || t->type == '>' || t->type == '=' || t->type == '/')
			continue;
		jv v;
		if (lookup(r, t->a, t->b, &v) < 0)
			return -1;
		int rc = 0;
		jv_kind k = jv_get_kind(v);
		if (t->type == 'n' || t->type == '&') {
			if (k != JV_KIND_NULL && k != JV_KIND_INVALID)
				rc = to_string(v, t->type == 'n', r->out);
		} else if (t->type == '^') {
			if (!truthy(v) || (k == JV_KIND_ARRAY && jv_array_length(jv_copy(v)) == 0))
				rc = run(r, i + 1, t->close);
		} else if (truthy(v)) {
			if (k == JV_KIND_ARRAY) {
				int n = jv_array_length(jv_copy(v));
				for (int j = 0; rc == 0 && j < n; j++)
					rc = push_run(r, jv_array_get(jv_copy(v), j), i + 1, t->close);
			} else if (k == JV_KIND_TRUE) {
				rc = run(r, i + 1, t->close);
			} else {
				rc = push_run(r, jv_copy(v), i + 1, t->close);
			}
		}
		jv_free(v);
		if (rc < 0)
			return -1;
		if (t->type == '#' || t->type == '^')
			i = t->close;
	}
	return 0;
}

int mustache_render(const struct u16 *t, jv view, struct u16 *out)
{
	struct parser p = { .s = t->s, .n = t->n, .open = { '{', '{' }, .close = { '}', '}' },
	                    .nopen = 2, .nclose = 2 };
	/* Fast path: no tag, nothing to render. */
	if (find(&p, 0, p.open, p.nopen) == p.n)
		return u16_append(out, t->s, t->n);
	int rc = parse(&p);
	if (rc == 0) {
		struct render r = { .p = &p, .out = out };
		r.stack[r.depth++] = jv_copy(view);
		rc = run(&r, 0, p.nt);
		jv_free(r.stack[0]);
	}
	free(p.t);
	return rc;
}

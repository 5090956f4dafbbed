/* parse: json_parse(), a parser for plain JSON, several times faster than
 * jq 1.6's. Anything it does not take as plain (an error, invalid UTF-8, a
 * lone surrogate, a raw control character in a string, jq's extensions
 * such as nan or 01, nesting past 256) goes to jv_parse_sized(), so the
 * value or the error is jq's own. */
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "json/json.h"

struct jp {
	const char *p, *end;
	int depth, bad;
};

static void jp_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int jp_hex4(const char *p, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if ((c | 32) >= 'a' && (c | 32) <= 'f')
			v |= (unsigned)((c | 32) - 'a' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static jv jp_string(struct jp *j)
{
	const char *s = ++j->p, *q = s;
	while (q < j->end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20)
		q++;
	if (q < j->end && *q == '"') {
		j->p = q + 1;
		return jv_string_sized(s, (int)(q - s));
	}
	/* escapes: decode into a buffer no longer than the source */
	char stack[512], *buf = stack;
	size_t cap = sizeof stack, n = 0;
	if ((size_t)(j->end - s) > cap && !(buf = malloc(cap = (size_t)(j->end - s))))
		goto bad;
	for (q = s; q < j->end && *q != '"'; q++) {
		unsigned char c = (unsigned char)*q;
		if (c < 0x20)
			goto bad;
		if (c != '\\') {
			buf[n++] = (char)c;
			continue;
		}
		if (++q >= j->end)
			goto bad;
		switch (*q) {
		case '"': buf[n++] = '"'; break;
		case '\\': buf[n++] = '\\'; break;
		case '/': buf[n++] = '/'; break;
		case 'b': buf[n++] = '\b'; break;
		case 'f': buf[n++] = '\f'; break;
		case 'n': buf[n++] = '\n'; break;
		case 'r': buf[n++] = '\r'; break;
		case 't': buf[n++] = '\t'; break;
		case 'u': {
			unsigned u, lo;
			if (j->end - q < 5 || jp_hex4(q + 1, &u) < 0)
				goto bad;
			q += 4;
			if (u >= 0xd800 && u <= 0xdbff) {
				if (j->end - q < 7 || q[1] != '\\' || q[2] != 'u' || jp_hex4(q + 3, &lo) < 0 ||
				    lo < 0xdc00 || lo > 0xdfff)
					goto bad;
				q += 6;
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
			} else if (u >= 0xdc00 && u <= 0xdfff) {
				goto bad;
			}
			/* \uXXXX is 6 bytes; its UTF-8 at most 3 (4 for a 12-byte pair) */
			if (u < 0x80) {
				buf[n++] = (char)u;
			} else if (u < 0x800) {
				buf[n++] = (char)(0xc0 | u >> 6);
				buf[n++] = (char)(0x80 | (u & 63));
			} else if (u < 0x10000) {
				buf[n++] = (char)(0xe0 | u >> 12);
				buf[n++] = (char)(0x80 | (u >> 6 & 63));
				buf[n++] = (char)(0x80 | (u & 63));
			} else {
				buf[n++] = (char)(0xf0 | u >> 18);
				buf[n++] = (char)(0x80 | (u >> 12 & 63));
				buf[n++] = (char)(0x80 | (u >> 6 & 63));
				buf[n++] = (char)(0x80 | (u & 63));
			}
			break;
		}
		default:
			goto bad;
		}
	}
	if (q >= j->end)
		goto bad;
	j->p = q + 1;
	jv v = jv_string_sized(buf, (int)n);
	if (buf != stack)
		free(buf);
	return v;
bad:
	if (buf != stack)
		free(buf);
	j->bad = 1;
	return jv_invalid();
}

static jv jp_number(struct jp *j)
{
	const char *s = j->p, *q = s;
	if (q < j->end && *q == '-')
		q++;
	if (q < j->end && *q == '0')
		q++;
	else if (q < j->end && *q >= '1' && *q <= '9')
		while (q < j->end && *q >= '0' && *q <= '9')
			q++;
	else
		goto bad;
	if (q < j->end && *q == '.') {
		if (++q >= j->end || *q < '0' || *q > '9')
			goto bad;
		while (q < j->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < j->end && (*q == 'e' || *q == 'E')) {
		q++;
		if (q < j->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= j->end || *q < '0' || *q > '9')
			goto bad;
		while (q < j->end && *q >= '0' && *q <= '9')
			q++;
	}
	char num[64];
	if (q - s >= (long)sizeof num)
		goto bad;
	memcpy(num, s, (size_t)(q - s));
	num[q - s] = 0;
	j->p = q;
	return jv_number(strtod(num, NULL));
bad:
	j->bad = 1;
	return jv_invalid();
}

static jv jp_value(struct jp *j);

static jv jp_object(struct jp *j)
{
	jv o = jv_object();
	j->p++;
	jp_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return o;
	}
	for (;;) {
		if (j->p >= j->end || *j->p != '"')
			break;
		jv k = jp_string(j);
		if (j->bad)
			break;
		jp_ws(j);
		if (j->p >= j->end || *j->p != ':') {
			jv_free(k);
			break;
		}
		j->p++;
		jv v = jp_value(j);
		if (j->bad) {
			jv_free(k);
			break;
		}
		o = jv_object_set(o, k, v);
		jp_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			jp_ws(j);
			continue;
		}
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			return o;
		}
		break;
	}
	j->bad = 1;
	jv_free(o);
	return jv_invalid();
}

static jv jp_array(struct jp *j)
{
	jv a = jv_array();
	j->p++;
	jp_ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return a;
	}
	for (;;) {
		jv v = jp_value(j);
		if (j->bad)
			break;
		a = jv_array_append(a, v);
		jp_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			return a;
		}
		break;
	}
	j->bad = 1;
	jv_free(a);
	return jv_invalid();
}

static int jp_word(struct jp *j, const char *w, size_t n)
{
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n))
		return 0;
	j->p += n;
	return 1;
}

static jv jp_value(struct jp *j)
{
	jp_ws(j);
	if (j->p >= j->end || ++j->depth > 256) {
		j->bad = 1;
		return jv_invalid();
	}
	jv v;
	switch (*j->p) {
	case '{': v = jp_object(j); break;
	case '[': v = jp_array(j); break;
	case '"': v = jp_string(j); break;
	case 't': v = jp_word(j, "true", 4) ? jv_true() : (j->bad = 1, jv_invalid()); break;
	case 'f': v = jp_word(j, "false", 5) ? jv_false() : (j->bad = 1, jv_invalid()); break;
	case 'n': v = jp_word(j, "null", 4) ? jv_null() : (j->bad = 1, jv_invalid()); break;
	default: v = jp_number(j); break;
	}
	j->depth--;
	return v;
}

jv json_parse(const char *s, size_t n)
{
	struct jp j = { s, s + n, 0, 0 };
	if (utf8_check(s, n) == n) {
		jv v = jp_value(&j);
		jp_ws(&j);
		if (!j.bad && j.p == j.end)
			return v;
		jv_free(v);
	}
	return jv_parse_sized(s, (int)n);
}

/* u16: JavaScript strings and rows of cells; see u16.h. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "vesta/u16.h"

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 64;
	while (c < need)
		c *= 2;
	void *q = realloc(*p, c * size);
	if (!q)
		return err_set("out of memory");
	*p = q;
	*cap = c;
	return 0;
}

int u16_push(struct u16 *b, unsigned c)
{
	if (b->n == b->cap && grow((void **)&b->s, &b->cap, b->n + 1, sizeof *b->s) < 0)
		return -1;
	b->s[b->n++] = (uint16_t)c;
	return 0;
}

int u16_append(struct u16 *b, const uint16_t *s, size_t n)
{
	if (grow((void **)&b->s, &b->cap, b->n + n, sizeof *b->s) < 0)
		return -1;
	if (n)
		memcpy(b->s + b->n, s, n * sizeof *s);
	b->n += n;
	return 0;
}

int u16_ascii(struct u16 *b, const char *s)
{
	for (; *s; s++)
		if (u16_push(b, (unsigned char)*s) < 0)
			return -1;
	return 0;
}

/* The code of a colour-square emoji, or 0. */
static int square(unsigned cp)
{
	switch (cp) {
	case 0x1f7e5: return 63; /* red */
	case 0x1f7e7: return 64; /* orange */
	case 0x1f7e8: return 65; /* yellow */
	case 0x1f7e9: return 66; /* green */
	case 0x1f7e6: return 67; /* blue */
	case 0x1f7ea: return 68; /* violet */
	case 0x2b1c: return 69;  /* white */
	case 0x2b1b: return 70;  /* black */
	}
	return 0;
}

int u16_utf8(struct u16 *b, const char *s, size_t n, int emoji)
{
	if (grow((void **)&b->s, &b->cap, b->n + n, sizeof *b->s) < 0)
		return -1;
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end) {
		unsigned cp = *p++;
		int more = cp < 0x80 ? 0 : cp < 0xe0 ? 1 : cp < 0xf0 ? 2 : 3;
		if (more)
			cp &= 0x3f >> more;
		for (; more && p < end; more--)
			cp = cp << 6 | (*p++ & 0x3f);
		int sq = emoji ? square(cp) : 0;
		if (sq) {
			char t[8] = { '{', (char)('0' + sq / 10), (char)('0' + sq % 10), '}', 0 };
			if (u16_ascii(b, t) < 0)
				return -1;
		} else if (cp >= 0x10000) {
			cp -= 0x10000;
			if (u16_push(b, 0xd800 | cp >> 10) < 0 || u16_push(b, 0xdc00 | (cp & 0x3ff)) < 0)
				return -1;
		} else if (u16_push(b, cp) < 0) {
			return -1;
		}
	}
	return 0;
}

void u16_free(struct u16 *b)
{
	free(b->s);
	b->s = NULL;
	b->n = b->cap = 0;
}

int u16_eol(unsigned c)
{
	return c == '\n' || c == '\r' || c == 0x2028 || c == 0x2029;
}

int u16_space(unsigned c)
{
	return (c >= 9 && c <= 13) || c == ' ' || c == 0xa0 || c == 0x1680 ||
	       (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
	       c == 0x205f || c == 0x3000 || c == 0xfeff;
}

int cells_push(struct cells *r, int code)
{
	if (r->n == r->cap && grow((void **)&r->c, &r->cap, r->n + 1, sizeof *r->c) < 0)
		return -1;
	r->c[r->n++] = (short)code;
	return 0;
}

void cells_free(struct cells *r)
{
	free(r->c);
	r->c = NULL;
	r->n = r->cap = 0;
}

/* utf8: validation and reversal by character; see utf8.h. */
#include <stdint.h>
#include <string.h>

#include "base/utf8.h"

/* Decodes one code point at S (valid UTF-8); sets *len to its size. */
static uint32_t decode(const unsigned char *s, size_t *len)
{
	if (s[0] < 0x80) {
		*len = 1;
		return s[0];
	}
	if (s[0] < 0xe0) {
		*len = 2;
		return (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
	}
	if (s[0] < 0xf0) {
		*len = 3;
		return (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 |
		       (s[2] & 0x3f);
	}
	*len = 4;
	return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
	       (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
}

size_t utf8_check(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < n) {
		/* Fast path: eight ASCII bytes at a time. */
		if (i + 8 <= n) {
			uint64_t w;
			memcpy(&w, s + i, 8);
			if (!(w & 0x8080808080808080ull)) {
				i += 8;
				continue;
			}
		}
		unsigned char c = s[i];
		size_t k;
		uint32_t min;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c < 0xe0) {
			k = 2, min = 0x80;
		} else if (c >= 0xe0 && c < 0xf0) {
			k = 3, min = 0x800;
		} else if (c >= 0xf0 && c < 0xf5) {
			k = 4, min = 0x10000;
		} else {
			return i;
		}
		if (i + k > n)
			return i;
		for (size_t j = 1; j < k; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return i;
		size_t len;
		uint32_t cp = decode(s + i, &len);
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
			return i;
		i += k;
	}
	return n;
}

/* Code points that attach to the one before them. */
static int extends(uint32_t c)
{
	return (c >= 0x0300 && c <= 0x036f) || (c >= 0x0483 && c <= 0x0489) ||
	       (c >= 0x0591 && c <= 0x05bd) || (c >= 0x0610 && c <= 0x061a) ||
	       (c >= 0x064b && c <= 0x065f) || (c >= 0x0900 && c <= 0x0903) ||
	       (c >= 0x093a && c <= 0x094f) || (c >= 0x0e31 && c <= 0x0e3a &&
	                                        c != 0x0e32 && c != 0x0e33) ||
	       (c >= 0x0e47 && c <= 0x0e4e) || (c >= 0x1160 && c <= 0x11ff) ||
	       (c >= 0x1ab0 && c <= 0x1aff) || (c >= 0x1dc0 && c <= 0x1dff) ||
	       c == 0x200c || c == 0x200d || (c >= 0x20d0 && c <= 0x20ff) ||
	       (c >= 0x3099 && c <= 0x309a) || (c >= 0xfe00 && c <= 0xfe0f) ||
	       (c >= 0xfe20 && c <= 0xfe2f) || (c >= 0x1f3fb && c <= 0x1f3ff) ||
	       (c >= 0xe0020 && c <= 0xe007f) || (c >= 0xe0100 && c <= 0xe01ef);
}

static int regional(uint32_t c)
{
	return c >= 0x1f1e6 && c <= 0x1f1ff;
}

/* Length in bytes of the character (cluster) starting at S. */
static size_t cluster(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t c = decode(s, &len);
	i = len;
	if (c == '\r' && i < n && s[i] == '\n')
		return 2;
	if (c < 0x80 && (i >= n || s[i] < 0x80))
		return 1;
	if (regional(c) && i < n) {
		uint32_t d = decode(s + i, &len);
		if (regional(d))
			i += len;
	}
	uint32_t prev = c;
	while (i < n) {
		uint32_t d = decode(s + i, &len);
		if (!extends(d) && prev != 0x200d)
			break;
		prev = d;
		i += len;
	}
	return i;
}

void utf8_reverse(const char *str, size_t n, char *out)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < n) {
		size_t k = cluster(s + i, n - i);
		memcpy(out + n - i - k, s + i, k);
		i += k;
	}
}

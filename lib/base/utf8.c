/* utf8: validation and decoding; see utf8.h. */
#include <stdint.h>
#include <string.h>

#include "base/utf8.h"

uint32_t utf8_decode(const unsigned char *s, size_t *len)
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
		uint32_t cp = utf8_decode(s + i, &len);
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
			return i;
		i += k;
	}
	return n;
}

/* safe: text made harmless for a terminal; see safe.h. */
#include <string.h>

#include "base/safe.h"
#include "base/utf8.h"

static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

/* The length of the valid UTF-8 sequence at S (N bytes left), or 0. */
static size_t seq_len(const unsigned char *s, size_t n)
{
	size_t k = s[0] < 0x80 ? 1 : s[0] < 0xc2 ? 0 : s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : s[0] < 0xf5 ? 4 : 0;
	if (!k || k > n)
		return 0;
	return utf8_check((const char *)s, k) == k ? k : 0;
}

size_t safe_text(const char *str, size_t n, char *out, int flags)
{
	const unsigned char *s = (const unsigned char *)str;
	char *o = out;
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		if ((c == '\n' && (flags & SAFE_KEEP_NL)) || (c == '\t' && (flags & SAFE_KEEP_TAB))) {
			*o++ = (char)c;
			i++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) { /* U+2400 + c, or U+2421 for DEL */
			unsigned cp = c == 0x7f ? 0x2421 : 0x2400 + c;
			*o++ = (char)(0xe0 | cp >> 12);
			*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
			*o++ = (char)(0x80 | (cp & 0x3f));
			i++;
			continue;
		}
		size_t k = seq_len(s + i, n - i);
		int harmful = !k || (k == 2 && c == 0xc2 && s[i + 1] < 0xa0) || /* C1 */
		              (k == 3 && c == 0xe2 && s[i + 1] == 0x80 && s[i + 2] >= 0xaa &&
		               s[i + 2] <= 0xae) || /* U+202A..U+202E */
		              (k == 3 && c == 0xe2 && s[i + 1] == 0x81 && s[i + 2] >= 0xa6 &&
		               s[i + 2] <= 0xa9); /* U+2066..U+2069 */
		if (harmful) {
			memcpy(o, replacement, 3);
			o += 3;
			i += k ? k : 1;
			continue;
		}
		memcpy(o, s + i, k);
		o += k;
		i += k;
	}
	return (size_t)(o - out);
}

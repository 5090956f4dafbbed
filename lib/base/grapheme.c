/* grapheme: UAX #29 cluster boundaries; see grapheme.h. */
#include <string.h>

#include "base/grapheme.h"
#include "base/utf8.h"

enum grapheme_class grapheme_class(uint32_t cp)
{
	if (cp >= 0xac00 && cp <= 0xd7a3) /* Hangul syllables */
		return (cp - 0xac00) % 28 ? G_LVT : G_LV;
	int lo = 0, hi = grapheme_count - 1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		if (cp < grapheme_table[mid].lo)
			hi = mid - 1;
		else if (cp > grapheme_table[mid].hi)
			lo = mid + 1;
		else
			return (enum grapheme_class)grapheme_table[mid].cls;
	}
	return G_OTHER;
}

/* Whether there is a break between a code point of class A and one of B,
 * given what came before: PICT_ZWJ (the cluster so far ends in
 * Extended_Pictographic Extend* ZWJ) and RI (regional indicators in a row
 * before B). */
static int breaks(int a, int b, int pict_zwj, int ri)
{
	if (a == G_CR && b == G_LF)
		return 0;                                              /* GB3 */
	if (a == G_CR || a == G_LF || a == G_CONTROL)
		return 1;                                              /* GB4 */
	if (b == G_CR || b == G_LF || b == G_CONTROL)
		return 1;                                              /* GB5 */
	if (a == G_L && (b == G_L || b == G_V || b == G_LV || b == G_LVT))
		return 0;                                              /* GB6 */
	if ((a == G_LV || a == G_V) && (b == G_V || b == G_T))
		return 0;                                              /* GB7 */
	if ((a == G_LVT || a == G_T) && b == G_T)
		return 0;                                              /* GB8 */
	if (b == G_EXTEND || b == G_ZWJ || b == G_SPACINGMARK)
		return 0;                                              /* GB9, GB9a */
	if (a == G_PREPEND)
		return 0;                                              /* GB9b */
	if (pict_zwj && a == G_ZWJ && b == G_PICT)
		return 0;                                              /* GB11 */
	if (a == G_RI && b == G_RI)
		return ri % 2 == 0;                                    /* GB12, GB13 */
	return 1;                                                      /* GB999 */
}

size_t grapheme_next(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t len, i;
	/* Two ASCII printable characters in a row: a break, at once. */
	if (n == 1 || (s[0] >= 0x20 && s[0] < 0x7f && s[1] >= 0x20 && s[1] < 0x7f))
		return 1;
	int a = grapheme_class(utf8_decode(s, &len));
	int pict = a == G_PICT, pict_zwj = 0, ri = a == G_RI;
	for (i = len; i < n; i += len) {
		int b = grapheme_class(utf8_decode(s + i, &len));
		if (breaks(a, b, pict_zwj, ri))
			break;
		/* Extended_Pictographic Extend* ZWJ: the next pictograph joins. */
		pict_zwj = pict && b == G_ZWJ;
		if (b == G_PICT)
			pict = 1;
		else if (b != G_EXTEND)
			pict = 0;
		ri = b == G_RI ? ri + 1 : 0;
		a = b;
	}
	return i;
}

void grapheme_reverse(const char *s, size_t n, char *out)
{
	for (size_t i = 0, k; i < n; i += k) {
		k = grapheme_next(s + i, n - i);
		memcpy(out + n - i - k, s + i, k);
	}
}

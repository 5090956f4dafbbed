/* grapheme: extended grapheme clusters (Unicode UAX #29), the characters a
 * reader sees: what Elixir's String.reverse/1, and so PANIC!'s dummy
 * model, reverses by.
 *
 * The break rules GB3 to GB13 of UAX #29 (CR LF, controls, Hangul
 * syllables, Extend and ZWJ, SpacingMark, Prepend, emoji ZWJ sequences,
 * regional-indicator pairs) over the Grapheme_Cluster_Break classes of the
 * Unicode Character Database, in grapheme_table.c, which tools/gen-graphemes
 * writes from Debian's unicode-data; tests check it against Unicode's own
 * GraphemeBreakTest.txt, every line.
 */
#ifndef PANIC_BASE_GRAPHEME_H
#define PANIC_BASE_GRAPHEME_H

#include <stddef.h>
#include <stdint.h>

enum grapheme_class {
	G_OTHER, G_CR, G_LF, G_CONTROL, G_EXTEND, G_ZWJ, G_RI, G_PREPEND, G_SPACINGMARK,
	G_L, G_V, G_T, G_LV, G_LVT, G_PICT,
};

struct grapheme_range {
	uint32_t lo, hi;
	unsigned char cls;
};
extern const struct grapheme_range grapheme_table[];
extern const int grapheme_count;

/* The class of code point CP. */
enum grapheme_class grapheme_class(uint32_t cp);
/* The length in bytes of the grapheme cluster at S (N > 0 bytes of valid
 * UTF-8). */
size_t grapheme_next(const char *s, size_t n);
/* Writes the N bytes at S (valid UTF-8), reversed by grapheme cluster, to
 * OUT (N bytes): marks stay on their base, Hangul syllables, emoji
 * sequences and flags stay whole, CR LF stays CR LF. */
void grapheme_reverse(const char *s, size_t n, char *out);

#endif

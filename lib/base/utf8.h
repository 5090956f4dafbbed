/* utf8: validation and reversal by character.
 *
 * utf8_reverse() reverses a string by user-perceived character, as Elixir's
 * String.reverse/1 (which PANIC!'s dummy model uses) does: a base code point
 * keeps the combining marks, variation selectors, emoji modifiers, tags and
 * zero-width-joined code points that follow it, regional-indicator flags stay
 * paired, and CR LF stays whole. This covers the extended grapheme clusters
 * of UAX #29 met in practice (accents, emoji sequences, flags); scripts whose
 * clusters need the full property tables (some Indic conjuncts) may split.
 */
#ifndef PANIC_UTF8_H
#define PANIC_UTF8_H

#include <stddef.h>

/* Returns N if the N bytes at S are valid UTF-8 (no overlongs, surrogates
 * or code points past U+10FFFF), else the offset of the first bad byte. */
size_t utf8_check(const char *s, size_t n);
/* Writes the N bytes at S, reversed by character, to OUT (N bytes).
 * S must be valid UTF-8. */
void utf8_reverse(const char *s, size_t n, char *out);

#endif

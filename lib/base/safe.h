/* safe: text from outside made harmless for a terminal (after mblaze's
 * safe_u8putstr).
 *
 * Model output, prompts and file names reach terminals (panic-log
 * --table, panic-watch, vesta-send --preview). An escape sequence in them
 * could retitle the terminal, clear it, move the cursor or worse, so every
 * such text goes through safe_text() first, which keeps printable UTF-8 and
 * shows the rest as visible characters:
 *   - C0 controls and DEL as their Unicode control pictures (ESC as ␛,
 *     BEL as ␇, NUL as ␀, DEL as ␡), newline and tab too unless kept;
 *   - C1 controls (U+0080 to U+009F, CSI among them), the bidirectional
 *     overrides and isolates (U+202A to U+202E, U+2066 to U+2069) and
 *     bytes that are not UTF-8 as U+FFFD.
 * Each input byte becomes at most 3 output bytes.
 */
#ifndef PANIC_BASE_SAFE_H
#define PANIC_BASE_SAFE_H

#include <stddef.h>

enum { SAFE_KEEP_NL = 1, SAFE_KEEP_TAB = 2 };

/* Writes the N bytes at S, made harmless, to OUT (room for 3 * N bytes);
 * returns the length written. FLAGS: SAFE_KEEP_NL, SAFE_KEEP_TAB. */
size_t safe_text(const char *s, size_t n, char *out, int flags);

#endif

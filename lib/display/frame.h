/* frame: a display laid out as text for a terminal of a given size.
 *
 * Pure: the display's views (display_view()) and the terminal's size in,
 * the frame's text out. Everything that came from outside (outputs,
 * errors, model names, the prompt) goes through base/safe.h's safe_text()
 * before it is measured and placed, so no escape sequence of a model's can
 * move the cursor or change the terminal; only the frame's own styles
 * (FRAME_ANSI) are escape sequences. Widths are terminal columns (wide
 * characters take two, combining marks none).
 *
 * The grid is R rows of C cells under a title line, cells separated by
 * lines; each cell has a header (#SEQ MODEL STATE) and its text, word
 * wrapped, cut with "…" when it does not fit. The single display is one
 * cell filling the screen. A terminal too small for the grid gets a line
 * saying so.
 *
 * jv ownership: VIEWS is borrowed.
 */
#ifndef PANIC_DISPLAY_FRAME_H
#define PANIC_DISPLAY_FRAME_H

#include <jv.h>
#include <stddef.h>

#include "display/display.h"

enum { FRAME_ANSI = 1 }; /* styles, and ESC[K at the end of each line */

/* The frame of the display SPEC showing VIEWS (an array, one view per
 * slot) under TITLE (may be NULL), for COLS x LINES: LINES lines, each
 * ending in '\n' (without FRAME_ANSI, trailing blanks are dropped).
 * Malloc'd, its length in *LEN; NULL if out of memory. */
char *frame_render(const struct display_spec *spec, jv views, const char *title, int cols,
                   int lines, int flags, size_t *len);
/* The terminal columns the N bytes of UTF-8 at S take. */
int frame_width(const char *s, size_t n);

#endif

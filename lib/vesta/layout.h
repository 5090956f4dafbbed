/* layout: text and VBML laid out on a board, as Vestaboard lays them out.
 *
 * Pure functions: a value in, a board out, no clock, file or network.
 * Each is checked cell for cell against @vestaboard/vbml by the tests.
 *
 * jv ownership: parameters are borrowed.
 */
#ifndef PANIC_VESTA_LAYOUT_H
#define PANIC_VESTA_LAYOUT_H

#include <jv.h>
#include <stddef.h>

#include "vesta/board.h"

/* The UTF-8 text S (N bytes, valid) on a Flagship (6 x 22), as
 * vbml.classic(S) lays it out (classic.c). */
int vesta_classic(const char *s, size_t n, struct vesta_board *b);

/* The VBML object V ({components, style, props}) on a board, as
 * vbml.parse(V) lays it out (vbml.c). The board is V's style height x
 * width, or ROWS x COLS where V gives none (Vestaboard's default is 6 x
 * 22); a V whose own size differs from ROWS x COLS is refused when STRICT.
 * Where vbml.parse would throw (an invalid {NN} code, an unclosed mustache
 * tag, components that do not fit) or make a board that is not a board (a
 * component wider than the board), this fails, -1 with err_msg(); so does
 * a field VBML does not have (a typo would otherwise pass unseen), an
 * unknown justify or align, and raw characters that are not codes. */
int vesta_vbml(jv v, int rows, int cols, int strict, struct vesta_board *b);

/* Plain text on a board of ROWS x COLS: on a Flagship as vesta_classic();
 * on any other size as one VBML component centred both ways, its braces
 * that do not make a {N} code turned into parentheses first (as the
 * classic formatter shows them), so that text is never taken for markup. */
int vesta_text(const char *s, size_t n, int rows, int cols, struct vesta_board *b);

#endif

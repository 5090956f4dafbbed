/* words: a VBML template's text laid out in a component (vbml.c's steps 2
 * to 5, described in words.c).
 *
 * Private to lib/vesta. The text is UTF-16 code units (u16.h), with every
 * space already written {0}.
 */
#ifndef PANIC_VESTA_WORDS_H
#define PANIC_VESTA_WORDS_H

#include <stddef.h>
#include <stdint.h>

#include "vesta/board.h"
#include "vesta/u16.h"

enum { TK_TEXT, TK_UNIT, TK_NL };

struct piece {
	size_t a, n; /* in the spaced text */
	int kind;
};

struct pieces {
	struct piece *p;
	size_t n, cap;
};

struct vline {
	struct u16 t;
	long len;
};

struct vlines {
	struct vline *l;
	size_t n, cap;
};

enum { J_LEFT, J_RIGHT, J_CENTER, J_JUSTIFIED };
enum { A_TOP, A_BOTTOM, A_CENTER, A_JUSTIFIED };

/* A component's grid of H x W codes. */
struct grid {
	int h, w;
	uint8_t c[VESTA_MAX_ROWS][VESTA_MAX_COLS];
};

/* The pieces of the text S for a component WIDTH cells wide. */
int vbml_words(const struct u16 *s, long width, struct pieces *out);
/* The lines the pieces W of S make. */
int vbml_lines(const struct u16 *s, const struct pieces *w, long width, struct vlines *v);
void vbml_lines_free(struct vlines *v);
/* A line's cells: codes, -1 for characters VBML's map lacks. */
int vbml_cells(const struct u16 *t, struct cells *out);
/* The N ROWS aligned into G, H x W. */
void vbml_align(struct cells *rows, size_t n, int h, int w, int justify, int valign, struct grid *g);

#endif

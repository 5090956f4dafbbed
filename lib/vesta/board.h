/* board: a Vestaboard's face as character codes.
 *
 * A board is ROWS x COLS codes (Flagship 6x22, Note 3x15, or any size up to
 * VESTA_MAX_ROWS x VESTA_MAX_COLS). The codes (Vestaboard's table): 0 blank,
 * 1-26 A-Z, 27-35 the digits 1-9, 36 zero, punctuation 37-60 (with gaps),
 * 62 degree, 63-70 the colour tiles red, orange, yellow, green, blue,
 * violet, white, black, and 71 filled. 43, 45, 51, 57, 58, 61 and
 * anything past 71 are no character.
 *
 * jv ownership: vesta_board_json() returns a new value; vesta_board_from()
 * borrows its argument.
 */
#ifndef PANIC_VESTA_BOARD_H
#define PANIC_VESTA_BOARD_H

#include <jv.h>
#include <stddef.h>
#include <stdint.h>

#define VESTA_MAX_ROWS 32
#define VESTA_MAX_COLS 64
#define VESTA_CODES 72

struct vesta_board {
	int rows, cols;
	uint8_t c[VESTA_MAX_ROWS][VESTA_MAX_COLS];
};

/* An empty (all blank) board of ROWS x COLS. */
void vesta_board_clear(struct vesta_board *b, int rows, int cols);
/* 1 if CODE is a character of the table. */
int vesta_code_valid(long code);
/* The codes of the classic formatter's and of VBML's maps for the UTF-16
 * code unit U: the code, or -1 for a character the map does not have. */
int vesta_classic_code(unsigned u);
int vesta_vbml_code(unsigned u);
/* What CODE shows, as UTF-8 ("A", "°", " " for blank and colours). */
const char *vesta_code_text(int code);
/* The colour of a colour tile (63-71) as "R;G;B" for a terminal, or NULL. */
const char *vesta_code_rgb(int code);
/* The board as a JSON array of rows of codes. */
jv vesta_board_json(const struct vesta_board *b);
/* The same as compact JSON text in BUF (VESTA_TEXT_MAX bytes, NUL
 * terminated); returns its length. */
#define VESTA_TEXT_MAX (VESTA_MAX_ROWS * (VESTA_MAX_COLS * 3 + 2) + 3)
size_t vesta_board_text(const struct vesta_board *b, char *buf);
/* Fills B from V (borrowed), an array of equal rows of valid codes of at
 * most VESTA_MAX_ROWS x VESTA_MAX_COLS. 0, or -1 with err_msg(). */
int vesta_board_from(struct vesta_board *b, jv v);

#endif

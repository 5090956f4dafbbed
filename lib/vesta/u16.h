/* u16: JavaScript strings, for doing what Vestaboard's JavaScript does.
 *
 * Private to lib/vesta. Vestaboard's formatters work on JavaScript strings:
 * lengths, regular expressions and split("") count UTF-16 code units, so
 * an emoji outside the BMP is two cells. Text is converted to UTF-16 code
 * units once and laid out on them.
 */
#ifndef PANIC_VESTA_U16_H
#define PANIC_VESTA_U16_H

#include <stddef.h>
#include <stdint.h>

struct u16 {
	uint16_t *s;
	size_t n, cap;
};

int u16_push(struct u16 *b, unsigned c);
int u16_append(struct u16 *b, const uint16_t *s, size_t n);
int u16_ascii(struct u16 *b, const char *s);
/* Appends the UTF-8 text S (N bytes, valid). With EMOJI, the colour-square
 * emoji become the codes "{63}" to "{70}", as Vestaboard's
 * emojisToCharacterCodes() does first. */
int u16_utf8(struct u16 *b, const char *s, size_t n, int emoji);
void u16_free(struct u16 *b);
/* JavaScript's \s: white space and line terminators. */
int u16_space(unsigned c);
/* A line terminator, which JavaScript's "." does not match. */
int u16_eol(unsigned c);

/* Rows of cells: a cell is a code, or -1 for a character the map does not
 * have (JavaScript's undefined), which takes room and shows blank. */
struct cells {
	short *c;
	size_t n, cap;
};
int cells_push(struct cells *r, int code);
void cells_free(struct cells *r);

#endif

/* vesta: Vestaboard layout (lib/vesta). The first byte picks a board size
 * (Flagship, Note, or one from the byte); the rest is laid out as plain
 * text (classic or centred VBML) when it is UTF-8, and as a VBML object
 * when it parses as one (props and all, so mustache is fuzzed too).
 * Every board made must be within its size and hold only codes 0-71. */
#include <stdlib.h>

#include "base/utf8.h"
#include "json/json.h"
#include "vesta/layout.h"

static void check(const struct vesta_board *b)
{
	if (b->rows < 1 || b->rows > VESTA_MAX_ROWS || b->cols < 1 || b->cols > VESTA_MAX_COLS)
		abort();
	for (int r = 0; r < b->rows; r++)
		for (int c = 0; c < b->cols; c++)
			if (b->c[r][c] >= VESTA_CODES)
				abort();
	char text[VESTA_TEXT_MAX];
	if (vesta_board_text(b, text) >= VESTA_TEXT_MAX)
		abort();
}

int fuzz_one(const unsigned char *data, size_t n)
{
	if (n < 1)
		return 0;
	int k = data[0] % 4;
	int rows = k == 0 ? 6 : k == 1 ? 3 : 1 + data[0] / 4 % 12;
	int cols = k == 0 ? 22 : k == 1 ? 15 : 1 + data[0] / 48 % 40;
	const char *s = (const char *)data + 1;
	n--;
	struct vesta_board b;
	if (utf8_check(s, n) == n) {
		if (vesta_classic(s, n, &b) == 0)
			check(&b);
		if (vesta_text(s, n, rows, cols, &b) == 0)
			check(&b);
	}
	jv v = json_parse(s, n);
	if (jv_get_kind(v) == JV_KIND_OBJECT && vesta_vbml(v, rows, cols, k & 1, &b) == 0)
		check(&b);
	jv_free(v);
	return 0;
}

/* classic: plain text laid out as Vestaboard's classic formatter does
 * (vbml.classic of @vestaboard/vbml), cell for cell.
 *
 * The algorithm, on UTF-16 code units (u16.h):
 *   1. the colour-square emoji become {63}..{70}; the text is cut at '\n';
 *   2. each line is cut into tokens, first match wins: a run of ASCII
 *      letters; '{', any one unit, a digit and one or more '}'; '{', a
 *      digit and one or more '}'; a run of digits; a run of white space;
 *      one unit that is neither a word character nor white space. '_'
 *      matches none of them and is dropped. A brace token is one cell, its
 *      code if it is exactly {N} (N 0 to 71), else unknown; every other
 *      unit is a cell of its own, mapped by the classic table (unknown
 *      units, emoji halves among them, take a cell and show blank);
 *   3. blanks cut a line into words; words longer than the content width
 *      (22, or 18 when the text first came out as exactly 3 rows) are cut
 *      into pieces of that width; pieces fill rows greedily, one blank
 *      between them, and an empty line stays an empty row;
 *   4. the block of rows is left-aligned and centred as a whole:
 *      floor((22 - (longest + 1)) / 2) blanks on the left and
 *      floor((6 - rows) / 2) blank rows above; what passes 6 x 22 is cut.
 */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "vesta/board.h"
#include "vesta/layout.h"
#include "vesta/u16.h"

#define ROWS 6
#define COLS 22

static int alpha(unsigned c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int digit(unsigned c)
{
	return c >= '0' && c <= '9';
}

/* The code of the brace token T (N units): {N} for N in 0..71. */
static int brace_code(const uint16_t *t, size_t n)
{
	if (n == 3 && digit(t[1]))
		return t[1] - '0';
	if (n == 4 && digit(t[1]) && t[1] != '0' && digit(t[2])) {
		int v = (t[1] - '0') * 10 + t[2] - '0';
		return v <= 71 ? v : -1;
	}
	return -1;
}

/* The cells of the line L (M units). */
static int tokens(const uint16_t *L, size_t m, struct cells *out)
{
	size_t i = 0;
	while (i < m) {
		unsigned c = L[i];
		size_t j = i + 1;
		if (alpha(c) || digit(c) || u16_space(c)) {
			int (*same)(unsigned) = alpha(c) ? alpha : digit(c) ? digit : u16_space;
			while (j < m && same(L[j]))
				j++;
			for (; i < j; i++)
				if (cells_push(out, vesta_classic_code(L[i])) < 0)
					return -1;
			continue;
		}
		if (c == '{') {
			size_t k = 0;
			if (i + 3 < m && !u16_eol(L[i + 1]) && digit(L[i + 2]) && L[i + 3] == '}')
				k = i + 4;
			else if (i + 2 < m && digit(L[i + 1]) && L[i + 2] == '}')
				k = i + 3;
			if (k) {
				while (k < m && L[k] == '}')
					k++;
				if (cells_push(out, brace_code(L + i, k - i)) < 0)
					return -1;
				i = k;
				continue;
			}
		}
		if (c != '_' && cells_push(out, vesta_classic_code(c)) < 0)
			return -1;
		i = j;
	}
	return 0;
}

struct block {
	int width;          /* the content width */
	long rows;          /* rows made */
	long longest;       /* cells of the longest row */
	struct cells row[ROWS]; /* the first ROWS rows */
	struct cells cur;   /* the row being filled */
	int words;          /* pieces in cur */
};

static int emit(struct block *k)
{
	if ((long)k->cur.n > k->longest)
		k->longest = (long)k->cur.n;
	if (k->rows < ROWS) {
		struct cells *r = &k->row[k->rows];
		r->n = 0;
		for (size_t i = 0; i < k->cur.n; i++)
			if (cells_push(r, k->cur.c[i]) < 0)
				return -1;
	}
	k->rows++;
	k->cur.n = 0;
	k->words = 0;
	return 0;
}

static int piece(struct block *k, const short *p, size_t n)
{
	if (k->words && k->cur.n + 1 + n > (size_t)k->width && emit(k) < 0)
		return -1;
	if (k->words && cells_push(&k->cur, 0) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (cells_push(&k->cur, p[i]) < 0)
			return -1;
	k->words++;
	return 0;
}

/* Fills K from the text T with content width K->width. */
static int fill(struct block *k, const struct u16 *t)
{
	struct cells line = { 0 };
	int rc = -1;
	size_t start = 0;
	for (size_t e = 0; e <= t->n; e++) {
		if (e < t->n && t->s[e] != '\n')
			continue;
		line.n = 0;
		if (tokens(t->s + start, e - start, &line) < 0)
			goto out;
		long before = k->rows;
		for (size_t i = 0; i < line.n;) {
			size_t j = i;
			while (j < line.n && line.c[j] != 0)
				j++;
			for (size_t p = i; p < j; p += (size_t)k->width) {
				size_t len = j - p < (size_t)k->width ? j - p : (size_t)k->width;
				if (piece(k, line.c + p, len) < 0)
					goto out;
			}
			i = j + 1;
		}
		if ((k->words || k->rows == before) && emit(k) < 0)
			goto out;
		start = e + 1;
	}
	rc = 0;
out:
	cells_free(&line);
	return rc;
}

static void block_free(struct block *k)
{
	for (int i = 0; i < ROWS; i++)
		cells_free(&k->row[i]);
	cells_free(&k->cur);
}

static long floordiv2(long x)
{
	return x >= 0 ? x / 2 : -((-x + 1) / 2);
}

int vesta_classic(const char *s, size_t n, struct vesta_board *b)
{
	vesta_board_clear(b, ROWS, COLS);
	if (!n)
		return 0;
	struct u16 t = { 0 };
	struct block k = { .width = COLS };
	int rc = -1;
	if (u16_utf8(&t, s, n, 1) < 0 || fill(&k, &t) < 0)
		goto out;
	if (k.rows == 3) {
		block_free(&k);
		memset(&k, 0, sizeof k);
		k.width = COLS - 4;
		if (fill(&k, &t) < 0)
			goto out;
	}
	long hpad = floordiv2(COLS - (k.longest + 1));
	long vpad = floordiv2(ROWS - k.rows);
	if (hpad < 0)
		hpad = 0;
	if (vpad < 0)
		vpad = 0;
	for (long r = 0; r < k.rows && r < ROWS && vpad + r < ROWS; r++)
		for (size_t c = 0; c < k.row[r].n && hpad + (long)c < COLS; c++)
			if (k.row[r].c[c] > 0)
				b->c[vpad + r][hpad + c] = (uint8_t)k.row[r].c[c];
	rc = 0;
out:
	if (rc < 0)
		err_set("layout: %s", err_msg());
	block_free(&k);
	u16_free(&t);
	return rc;
}

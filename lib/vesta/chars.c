/* chars: Vestaboard's character table and its two maps from text.
 *
 * Vestaboard's classic formatter and its VBML library map text to codes
 * with two different tables (VBML blanks some symbols that the classic
 * formatter cannot show, and only the classic one knows the umlauts ä, ö).
 * Both are kept here as lists of (character, code), expanded on first use
 * into a table over UTF-16 code units, since both formatters work on
 * JavaScript strings.
 */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "vesta/board.h"

/* Characters both maps share: ASCII letters and digits come separately. */
static const char both_ascii[] = "!\x25" "@\x26" "#\x27" "$\x28" "(\x29" ")\x2a"
                                 "-\x2c" "+\x2e" "&\x2f" "=\x30" ";\x31" ":\x32"
                                 "'\x34" "\"\x35" "%\x36" ",\x37" ".\x38" "/\x3b"
                                 "\\\x3b" "?\x3c" "[\x29" "{\x29" "]\x2a" "}\x2a"
                                 "~\x2c" "`\x34" "|\x09";

struct pair {
	unsigned short u;
	unsigned char code;
};

/* Non-ASCII characters both maps share. */
static const struct pair both[] = {
	{ 0xb0, 62 }, { 0x2014, 44 }, { 0x2018, 52 }, { 0x2019, 52 }, { 0xb4, 52 },
	{ 0x2013, 44 }, { 0xaf, 44 }, { 0xb8, 55 }, { 0xa6, 50 }, { 0xbf, 60 },
	{ 0x201e, 53 }, { 0x201c, 53 }, { 0x201d, 53 }, { 0xa8, 53 }, { 0x2030, 54 },
	{ 0xa4, 62 }, { 0x2022, 62 }, { 0xb7, 62 },
	/* a: â à å á À Á Â Ã Å ã */
	{ 0xe2, 1 }, { 0xe0, 1 }, { 0xe5, 1 }, { 0xe1, 1 }, { 0xc0, 1 }, { 0xc1, 1 },
	{ 0xc2, 1 }, { 0xc3, 1 }, { 0xc5, 1 }, { 0xe3, 1 },
	{ 0xe7, 3 }, { 0xc7, 3 }, { 0xa2, 3 }, { 0xd0, 4 },
	{ 0xe9, 5 }, { 0xea, 5 }, { 0xeb, 5 }, { 0xe8, 5 }, { 0xc8, 5 }, { 0xc9, 5 },
	{ 0xca, 5 }, { 0xcb, 5 }, { 0x192, 6 }, { 0x11f, 7 },
	{ 0xed, 9 }, { 0xef, 9 }, { 0xee, 9 }, { 0xec, 9 }, { 0xcc, 9 }, { 0xcd, 9 },
	{ 0xce, 9 }, { 0xcf, 9 }, { 0xa3, 12 }, { 0xf1, 14 }, { 0xd1, 14 },
	/* o: ó ô ò Ò Ó Ô Õ Ø ð õ ø */
	{ 0xf3, 15 }, { 0xf4, 15 }, { 0xf2, 15 }, { 0xd2, 15 }, { 0xd3, 15 }, { 0xd4, 15 },
	{ 0xd5, 15 }, { 0xd8, 15 }, { 0xf0, 15 }, { 0xf5, 15 }, { 0xf8, 15 },
	{ 0xb1, 46 }, { 0x161, 19 }, { 0x160, 19 }, { 0xa7, 19 },
	{ 0xfb, 21 }, { 0xf9, 21 }, { 0xfa, 21 }, { 0xd9, 21 }, { 0xda, 21 }, { 0xdb, 21 },
};

/* Only the classic formatter's: the umlauts ä Ä ö Ö. */
static const struct pair classic_only[] = {
	{ 0xe4, 1 }, { 0xc4, 1 }, { 0xf6, 15 }, { 0xd6, 15 },
};

/* Only VBML's: ć Ć, and the symbols it shows as blank. */
static const struct pair vbml_only[] = {
	{ 0x107, 3 }, { 0x106, 3 },
	{ '<', 0 }, { '>', 0 }, { '*', 0 }, { '^', 0 }, { '_', 0 },
	{ 0xa9, 0 }, { 0xae, 0 }, { 0xb2, 0 }, { 0x2020, 0 }, { 0x2021, 0 }, { 0x2c6, 0 },
	{ 0xde, 0 }, { 0xfe, 0 }, { 0xb5, 0 }, { 0xb6, 0 }, { 0xac, 0 }, { 0xab, 0 },
	{ 0xbb, 0 }, { 0x203a, 0 }, { 0xb3, 0 }, { 0xb9, 0 }, { 0x20ac, 0 }, { 0x2039, 0 },
	{ 0x2dc, 0 }, { 0xf7, 0 },
};

static signed char classic_map[65536], vbml_map[65536];
static int ready;

static void put(signed char *m, const struct pair *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		m[p[i].u] = (signed char)p[i].code;
}

static void init(void)
{
	memset(classic_map, -1, sizeof classic_map);
	memset(vbml_map, -1, sizeof vbml_map);
	for (signed char *m = classic_map; m; m = m == classic_map ? vbml_map : NULL) {
		m[' '] = 0;
		for (int c = 0; c < 26; c++)
			m['A' + c] = m['a' + c] = (signed char)(1 + c);
		for (int c = 1; c <= 9; c++)
			m['0' + c] = (signed char)(26 + c);
		m['0'] = 36;
		for (const char *p = both_ascii; *p; p += 2)
			m[(unsigned char)p[0]] = p[1];
		put(m, both, sizeof both / sizeof *both);
	}
	put(classic_map, classic_only, sizeof classic_only / sizeof *classic_only);
	put(vbml_map, vbml_only, sizeof vbml_only / sizeof *vbml_only);
	ready = 1;
}

int vesta_classic_code(unsigned u)
{
	if (!ready)
		init();
	return u < 65536 ? classic_map[u] : -1;
}

int vesta_vbml_code(unsigned u)
{
	if (!ready)
		init();
	return u < 65536 ? vbml_map[u] : -1;
}

int vesta_code_valid(long code)
{
	if (code < 0 || code >= VESTA_CODES)
		return 0;
	return code != 43 && code != 45 && code != 51 && code != 57 && code != 58 && code != 61;
}

static const char *const text[VESTA_CODES] = {
	" ", "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O",
	"P", "Q", "R", "S", "T", "U", "V", "W", "X", "Y", "Z", "1", "2", "3", "4", "5",
	"6", "7", "8", "9", "0", "!", "@", "#", "$", "(", ")", " ", "-", " ", "+", "&",
	"=", ";", ":", " ", "'", "\"", "%", ",", ".", " ", " ", "/", "?", " ", "°",
	" ", " ", " ", " ", " ", " ", " ", " ", " ",
};

const char *vesta_code_text(int code)
{
	return code >= 0 && code < VESTA_CODES ? text[code] : " ";
}

const char *vesta_code_rgb(int code)
{
	static const char *const rgb[] = {
		"218;41;28", "255;117;0", "255;205;0", "0;154;68", "0;114;206",
		"112;47;138", "255;255;255", "0;0;0", "255;255;255",
	};
	return code >= 63 && code <= 71 ? rgb[code - 63] : NULL;
}

void vesta_board_clear(struct vesta_board *b, int rows, int cols)
{
	b->rows = rows;
	b->cols = cols;
	memset(b->c, 0, sizeof b->c);
}

jv vesta_board_json(const struct vesta_board *b)
{
	jv out = jv_array_sized(b->rows);
	for (int r = 0; r < b->rows; r++) {
		jv row = jv_array_sized(b->cols);
		for (int c = 0; c < b->cols; c++)
			row = jv_array_append(row, jv_number(b->c[r][c]));
		out = jv_array_append(out, row);
	}
	return out;
}

size_t vesta_board_text(const struct vesta_board *b, char *buf)
{
	char *p = buf;
	*p++ = '[';
	for (int r = 0; r < b->rows; r++) {
		if (r)
			*p++ = ',';
		*p++ = '[';
		for (int c = 0; c < b->cols; c++) {
			unsigned v = b->c[r][c];
			if (c)
				*p++ = ',';
			if (v >= 10)
				*p++ = (char)('0' + v / 10);
			*p++ = (char)('0' + v % 10);
		}
		*p++ = ']';
	}
	*p++ = ']';
	*p = 0;
	return (size_t)(p - buf);
}

int vesta_board_from(struct vesta_board *b, jv v)
{
	if (jv_get_kind(v) != JV_KIND_ARRAY)
		return err_set("characters: expected an array of rows of codes");
	int rows = jv_array_length(jv_copy(v)), cols = -1;
	if (rows < 1 || rows > VESTA_MAX_ROWS)
		return err_set("characters: %d rows (1 to %d)", rows, VESTA_MAX_ROWS);
	for (int r = 0; r < rows; r++) {
		jv row = jv_array_get(jv_copy(v), r);
		if (jv_get_kind(row) != JV_KIND_ARRAY) {
			jv_free(row);
			return err_set("characters: row %d is not an array", r + 1);
		}
		int n = jv_array_length(jv_copy(row));
		if (cols < 0) {
			cols = n;
			if (cols < 1 || cols > VESTA_MAX_COLS) {
				jv_free(row);
				return err_set("characters: %d columns (1 to %d)", cols, VESTA_MAX_COLS);
			}
			vesta_board_clear(b, rows, cols);
		} else if (n != cols) {
			jv_free(row);
			return err_set("characters: row %d has %d codes, row 1 has %d", r + 1, n, cols);
		}
		for (int c = 0; c < n; c++) {
			jv x = jv_array_get(jv_copy(row), c);
			double d = jv_get_kind(x) == JV_KIND_NUMBER ? jv_number_value(x) : -1;
			jv_free(x);
			if (d != (long)d || !vesta_code_valid((long)d)) {
				jv_free(row);
				return err_set("characters: row %d column %d: not a character code "
				               "(0-71 without 43 45 51 57 58 61)", r + 1, c + 1);
			}
			b->c[r][c] = (uint8_t)d;
		}
		jv_free(row);
	}
	return 0;
}

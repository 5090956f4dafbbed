/* ndjson: the one record reader every filter uses.
 *
 * Reads newline-delimited input from a file descriptor and turns each line
 * into a record (a jv object), by the rules of DESIGN.md §2. In the
 * default mode (ND_DETECT):
 *   - a JSON object is the record;
 *   - a line that starts like a JSON object ("{" then, after any white
 *     space, a '"' or "}") and does not parse is a bad line: most likely a
 *     record cut off;
 *   - any other line is text and becomes {"input": LINE}: a bare number,
 *     null, "a quoted phrase", [citation needed], {draft} are prompts;
 *   - a trailing CR is dropped; blank lines are skipped silently.
 * ND_RAW (jq's -R) takes every line as text; ND_JSON takes only objects,
 * and any other line is bad. In every mode a line with a NUL byte, invalid
 * UTF-8, or longer than the limit is bad. nd_next() says why (err_msg())
 * and which line (nd_lineno()), and the reader goes on with the next
 * line. A too-long line is discarded without being held in memory.
 *
 * Flushing: a caller that must flush output whenever it is about to wait
 * asks with wait=0; ND_AGAIN then means "nothing to read right now".
 */
#ifndef PANIC_NDJSON_H
#define PANIC_NDJSON_H

#include <jv.h>
#include <stddef.h>

enum {
	ND_ERROR = -1, /* read(2) failed; err_msg() says why */
	ND_EOF = 0,
	ND_RECORD = 1, /* *rec holds a new object, owned by the caller */
	ND_BAD = 2,    /* a bad line; err_msg() says why */
	ND_AGAIN = 3,  /* wait=0 and no line is ready */
};

#define ND_MAXLINE_DEFAULT (4u << 20)

enum nd_mode { ND_DETECT, ND_RAW, ND_JSON };

struct nd_reader;

/* A reader of FD in MODE; lines longer than MAXLINE bytes (0: the
 * default) are bad. NULL on ENOMEM. */
struct nd_reader *nd_new(int fd, size_t maxline, enum nd_mode mode);
void nd_free(struct nd_reader *r);
/* The next record. With wait=0, returns ND_AGAIN instead of blocking. */
int nd_next(struct nd_reader *r, jv *rec, int wait);
/* Applies the rules of MODE to the text S (N bytes, no newline):
 * ND_RECORD with *rec, ND_BAD with err_msg(), or ND_EOF if S is blank. */
int nd_parse(const char *s, size_t n, enum nd_mode mode, jv *rec);
/* The text of the record last returned, if its line was a JSON object:
 * compact (white space outside strings removed) and otherwise byte for byte
 * as read. Valid until the next nd_next(); NULL for other records. */
const char *nd_raw(const struct nd_reader *r, size_t *len);
/* The number of the line last returned (1-based). */
long nd_lineno(const struct nd_reader *r);
int nd_fd(const struct nd_reader *r);

#endif

/* id: UUIDv7 identifiers (RFC 9562), as lower-case text.
 *
 * 48 bits of Unix time in ms, then 74 random bits. Within one process ids
 * are strictly increasing: in the same millisecond the 12-bit rand_a field
 * is a counter (RFC 9562 §6.2, method 1), so sorting by id sorts by creation.
 */
#ifndef PANIC_ID_H
#define PANIC_ID_H

#include <stdint.h>

#define ID_LEN 36
/* Writes a new id and its NUL into BUF; returns BUF. */
char *id_new(char buf[static ID_LEN + 1]);
/* The same, for a given time in ms (for tests and migrations). */
char *id_new_at(int64_t ms, char buf[static ID_LEN + 1]);

#endif

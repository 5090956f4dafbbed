/* md5: RFC 1321 digests, for the dummy platform's deterministic outputs.
 * Not for security.
 */
#ifndef PANIC_MD5_H
#define PANIC_MD5_H

#include <stddef.h>

/* Digest of the N bytes at P (and, if Q, the M bytes at Q after them), as
 * 32 lower-case hex digits and a NUL in HEX. */
void md5_hex2(const void *p, size_t n, const void *q, size_t m, char hex[static 33]);

#endif

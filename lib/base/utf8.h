/* utf8: validation and decoding.
 *
 * Valid means what RFC 3629 says: no overlong forms, no surrogates, nothing
 * past U+10FFFF.
 */
#ifndef PANIC_UTF8_H
#define PANIC_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Returns N if the N bytes at S are valid UTF-8 (no overlongs, surrogates
 * or code points past U+10FFFF), else the offset of the first bad byte. */
size_t utf8_check(const char *s, size_t n);
/* Decodes the code point at S (valid UTF-8); sets *LEN to its size. */
uint32_t utf8_decode(const unsigned char *s, size_t *len);

#endif

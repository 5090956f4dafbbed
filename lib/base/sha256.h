/* sha256: SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for content
 * addresses (panic-archive stores a file under the digest of its bytes)
 * and for AWS Signature Version 4 (http/sigv4.h).
 *
 * Incremental: sha256_init(), any number of sha256_update(), then
 * sha256_final(); the state is a plain struct the caller owns.
 */
#ifndef PANIC_BASE_SHA256_H
#define PANIC_BASE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32
#define SHA256_HEX 65 /* 64 hex digits and a NUL */

struct sha256 {
	uint32_t h[8];
	uint64_t len; /* bytes hashed so far */
	unsigned char buf[64];
	size_t fill;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *p, size_t n);
void sha256_final(struct sha256 *s, unsigned char out[static SHA256_LEN]);
/* The digest of the N bytes at P. */
void sha256(const void *p, size_t n, unsigned char out[static SHA256_LEN]);
/* DIGEST as 64 lower-case hex digits and a NUL in HEX; returns HEX. */
char *sha256_hex(const unsigned char digest[static SHA256_LEN], char hex[static SHA256_HEX]);
/* HMAC-SHA256 of the N bytes at MSG under the KLEN bytes of KEY. */
void hmac_sha256(const void *key, size_t klen, const void *msg, size_t n,
                 unsigned char out[static SHA256_LEN]);

#endif

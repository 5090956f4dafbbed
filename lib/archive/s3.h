/* s3: uploads to an S3-compatible bucket (AWS S3, Tigris, MinIO, R2...),
 * signed with AWS Signature Version 4 (http/sigv4.h).
 *
 * Objects are addressed path-style, ENDPOINT/BUCKET/KEY, which every
 * S3-compatible server takes; a PUT carries Content-Type, the payload's
 * SHA-256 (x-amz-content-sha256, signed, so a changed payload does not
 * verify) and x-amz-date, all signed. Objects are named by the SHA-256 of
 * their bytes, so they never change and carry a long Cache-Control.
 */
#ifndef PANIC_ARCHIVE_S3_H
#define PANIC_ARCHIVE_S3_H

#include <stddef.h>
#include <stdint.h>

struct http_req;

struct s3_conf {
	const char *endpoint;   /* "https://host[:port][/path]"; NULL: no upload */
	const char *bucket;
	const char *region;     /* default us-east-1 */
	const char *prefix;     /* before every key, as "panic/"; may be "" */
	const char *public_url; /* where the world reads the objects; default
	                         * ENDPOINT/BUCKET */
	const char *key_id, *secret, *token; /* the credentials */
};

/* 0 if C is usable, else -1 with err_msg() saying what is wrong. */
int s3_check(const struct s3_conf *c);
/* What identifies where C puts objects (endpoint, bucket, prefix), for
 * "uploaded once" bookkeeping; malloc'd. */
char *s3_destination(const struct s3_conf *c);
/* The public URL of object KEY; malloc'd. */
char *s3_public_url(const struct s3_conf *c, const char *key);
/* Fills R (fresh, zeroed) with the signed PUT of the N bytes BODY (R takes
 * them) as object KEY of type CTYPE, whose SHA-256 is SHA (hex), signed at
 * NOW_MS. 0, or -1 with err_msg(). */
int s3_put(const struct s3_conf *c, struct http_req *r, const char *key, const char *ctype,
           const char *sha, char *body, size_t n, int64_t now_ms);

#endif

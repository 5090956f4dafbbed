/* sigv4: AWS Signature Version 4 for a request (S3 and anything else that
 * speaks it), after AWS's "Signature Version 4 signing process".
 *
 * Pure: the time, the keys and the request come in, the Authorization
 * header goes out; no clock, file or network inside. The caller sends
 * exactly what was signed: the method, the path as given (already
 * URI-encoded, see sigv4_uri_encode()), the query, and each signed header
 * with the value given here (host, x-amz-date, x-amz-content-sha256,
 * x-amz-security-token when there is a session token, and the extra
 * headers).
 *
 *   canonical request = METHOD \n PATH \n QUERY \n
 *                       name:value \n ... (sorted, lower-case names) \n
 *                       signed;header;names \n PAYLOAD-HASH
 *   string to sign    = AWS4-HMAC-SHA256 \n AMZ-DATE \n
 *                       DATE/REGION/SERVICE/aws4_request \n hex(sha256(canonical))
 *   signing key       = HMAC chain "AWS4"+secret -> DATE -> REGION -> SERVICE -> aws4_request
 */
#ifndef PANIC_HTTP_SIGV4_H
#define PANIC_HTTP_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#define SIGV4_EXTRA 4
#define SIGV4_AUTH_MAX 1024

struct sigv4 {
	const char *method;       /* "PUT" */
	const char *host;         /* the Host header: "host" or "host:port" */
	const char *path;         /* URI-encoded, starting with '/' */
	const char *query;        /* canonical query string, or NULL for none */
	const char *payload_hash; /* 64 hex digits, or "UNSIGNED-PAYLOAD" */
	const char *region, *service;
	const char *key_id, *secret;
	const char *token;        /* session token, or NULL */
	int64_t now_ms;           /* the signing time, ms since the epoch */
	/* Further headers to sign, as names (lower case) and values. */
	const char *extra_name[SIGV4_EXTRA], *extra_value[SIGV4_EXTRA];
	int nextra;
};

/* Fills AUTH (the Authorization header's value) and AMZ_DATE (the
 * x-amz-date header's, "YYYYMMDDTHHMMSSZ"). 0, or -1 with err_msg() if a
 * field is missing or AUTH is too small. */
int sigv4_sign(const struct sigv4 *s, char *auth, size_t size, char amz_date[static 17]);
/* The N bytes at S percent-encoded as SigV4 wants (unreserved A-Z a-z 0-9
 * - . _ ~ kept, the rest %XX upper case; '/' kept if KEEP_SLASH) into OUT
 * (room for 3 * N + 1 bytes). Returns OUT. */
char *sigv4_uri_encode(const char *s, size_t n, int keep_slash, char *out);

#endif

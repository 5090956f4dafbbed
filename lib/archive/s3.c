/* s3: signed PUTs to an S3-compatible bucket; see s3.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/s3.h"
#include "base/err.h"
#include "http/http.h"
#include "http/sigv4.h"

/* The parts of an endpoint URL: scheme "http" or "https", the host (and
 * port) as given, the base path without a trailing '/'. */
struct endpoint {
	char scheme[8], host[256], base[512];
};

static int parse(const char *url, struct endpoint *e)
{
	const char *rest;
	if (!strncmp(url, "https://", 8))
		rest = url + 8, strcpy(e->scheme, "https");
	else if (!strncmp(url, "http://", 7))
		rest = url + 7, strcpy(e->scheme, "http");
	else
		return err_set("S3 endpoint '%s': not an http or https URL", url);
	size_t h = strcspn(rest, "/?#");
	if (!h || h >= sizeof e->host || rest[h] == '?' || rest[h] == '#' ||
	    memchr(rest, '@', h))
		return err_set("S3 endpoint '%s': expected http(s)://HOST[:PORT][/PATH]", url);
	memcpy(e->host, rest, h);
	e->host[h] = 0;
	for (const char *p = e->host; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '\\')
			return err_set("S3 endpoint '%s': a bad host", url);
	const char *base = rest + h;
	size_t b = strlen(base);
	while (b && base[b - 1] == '/')
		b--;
	if (b >= sizeof e->base || strcspn(base, "?# ") < b)
		return err_set("S3 endpoint '%s': a bad path", url);
	memcpy(e->base, base, b);
	e->base[b] = 0;
	return 0;
}

int s3_check(const struct s3_conf *c)
{
	struct endpoint e;
	if (!c->endpoint)
		return err_set("no S3 endpoint");
	if (parse(c->endpoint, &e) < 0)
		return -1;
	const char *b = c->bucket;
	size_t n = b ? strlen(b) : 0;
	if (n < 3 || n > 63)
		return err_set("S3 bucket '%s': a bucket name has 3 to 63 characters", b ? b : "");
	for (size_t i = 0; i < n; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') || b[i] == '-' ||
		      b[i] == '.'))
			return err_set("S3 bucket '%s': lower-case letters, digits, '-' and '.' only", b);
	const char *p = c->prefix ? c->prefix : "";
	if (*p == '/' || strlen(p) > 512)
		return err_set("S3 prefix '%s': must not start with '/' (at most 512 bytes)", p);
	for (const char *q = p; *q; q++)
		if ((unsigned char)*q < ' ' || *q == 0x7f || *q == '\\')
			return err_set("S3 prefix: control characters and '\\' are not allowed");
	for (const char *q = p; (q = strstr(q, "..")); q += 2)
		if ((q == p || q[-1] == '/') && (q[2] == '/' || !q[2]))
			return err_set("S3 prefix '%s': no '..' segments", p);
	if (c->public_url && strncmp(c->public_url, "https://", 8) &&
	    strncmp(c->public_url, "http://", 7))
		return err_set("public URL '%s': not an http or https URL", c->public_url);
	if (!c->key_id || !*c->key_id || !c->secret || !*c->secret)
		return err_set("no S3 credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)");
	return 0;
}

char *s3_destination(const struct s3_conf *c)
{
	char *d;
	if (asprintf(&d, "%s/%s/%s", c->endpoint, c->bucket, c->prefix ? c->prefix : "") < 0)
		return NULL;
	return d;
}

/* KEY URI-encoded ('/' kept), malloc'd. */
static char *encode(const char *key)
{
	size_t n = strlen(key);
	char *o = malloc(3 * n + 1);
	return o ? sigv4_uri_encode(key, n, 1, o) : NULL;
}

char *s3_public_url(const struct s3_conf *c, const char *key)
{
	char *k = encode(key), *u = NULL;
	if (!k)
		return NULL;
	if (c->public_url) {
		size_t b = strlen(c->public_url);
		while (b && c->public_url[b - 1] == '/')
			b--;
		if (asprintf(&u, "%.*s/%s", (int)b, c->public_url, k) < 0)
			u = NULL;
	} else {
		struct endpoint e;
		if (parse(c->endpoint, &e) == 0 &&
		    asprintf(&u, "%s://%s%s/%s/%s", e.scheme, e.host, e.base, c->bucket, k) < 0)
			u = NULL;
	}
	free(k);
	return u;
}

int s3_put(const struct s3_conf *c, struct http_req *r, const char *key, const char *ctype,
           const char *sha, char *body, size_t n, int64_t now_ms)
{
	struct endpoint e;
	r->body = body;
	r->bodylen = n;
	if (parse(c->endpoint, &e) < 0)
		return -1;
	char *k = encode(key), *path = NULL;
	if (!k || asprintf(&path, "%s/%s/%s", e.base, c->bucket, k) < 0) {
		free(k);
		return err_errno("s3");
	}
	free(k);
	struct sigv4 s = {
		.method = "PUT", .host = e.host, .path = path, .payload_hash = sha,
		.region = c->region && *c->region ? c->region : "us-east-1", .service = "s3",
		.key_id = c->key_id, .secret = c->secret, .token = c->token, .now_ms = now_ms,
		.extra_name = { "content-type", "cache-control" },
		.extra_value = { ctype, "public, max-age=31536000, immutable" }, .nextra = 2,
	};
	char auth[SIGV4_AUTH_MAX], date[17];
	int rc = sigv4_sign(&s, auth, sizeof auth, date);
	if (rc == 0 && asprintf(&r->url, "%s://%s%s", e.scheme, e.host, path) < 0)
		rc = err_errno("s3");
	free(path);
	if (rc < 0)
		return -1;
	r->method = "PUT";
	if (http_header(r, "Host", e.host) < 0 || http_header(r, "Content-Type", ctype) < 0 ||
	    http_header(r, "Cache-Control", s.extra_value[1]) < 0 ||
	    http_header(r, "x-amz-content-sha256", sha) < 0 || http_header(r, "x-amz-date", date) < 0 ||
	    http_header(r, "Authorization", auth) < 0 ||
	    (c->token && http_header(r, "x-amz-security-token", c->token) < 0))
		return err_set("s3: too many headers");
	memset(auth, 0, sizeof auth);
	return 0;
}

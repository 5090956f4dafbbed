/* sigv4: AWS Signature Version 4; see sigv4.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/sha256.h"
#include "http/sigv4.h"

char *sigv4_uri_encode(const char *s, size_t n, int keep_slash, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	char *o = out;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~' || (c == '/' && keep_slash)) {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = 0;
	return out;
}

struct header {
	const char *name, *value;
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct header *)a)->name, ((const struct header *)b)->name);
}

/* VALUE trimmed, with runs of spaces made one (the canonical form), to F. */
static void put_value(FILE *f, const char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	const char *end = v + strlen(v);
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	for (int space = 0; v < end; v++) {
		if (*v == ' ' || *v == '\t') {
			space = 1;
			continue;
		}
		if (space)
			fputc(' ', f);
		space = 0;
		fputc(*v, f);
	}
}

static void hmac(const unsigned char *key, size_t klen, const char *msg,
                 unsigned char out[static SHA256_LEN])
{
	hmac_sha256(key, klen, msg, strlen(msg), out);
}

int sigv4_sign(const struct sigv4 *s, char *auth, size_t size, char amz_date[static 17])
{
	if (!s->method || !s->host || !s->path || s->path[0] != '/' || !s->payload_hash ||
	    !s->region || !s->service || !s->key_id || !s->secret || s->nextra > SIGV4_EXTRA)
		return err_set("sigv4: an incomplete request");
	time_t t = (time_t)(s->now_ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(amz_date, 17, "%Y%m%dT%H%M%SZ", &tm);
	char date[9];
	memcpy(date, amz_date, 8);
	date[8] = 0;

	struct header h[SIGV4_EXTRA + 4];
	int nh = 0;
	h[nh++] = (struct header){ "host", s->host };
	h[nh++] = (struct header){ "x-amz-content-sha256", s->payload_hash };
	h[nh++] = (struct header){ "x-amz-date", amz_date };
	if (s->token)
		h[nh++] = (struct header){ "x-amz-security-token", s->token };
	for (int i = 0; i < s->nextra; i++)
		h[nh++] = (struct header){ s->extra_name[i], s->extra_value[i] };
	qsort(h, (size_t)nh, sizeof *h, by_name);

	char *canon = NULL, *signed_names = NULL;
	size_t clen = 0, slen = 0;
	FILE *c = open_memstream(&canon, &clen), *sn = open_memstream(&signed_names, &slen);
	if (!c || !sn) {
		if (c)
			fclose(c);
		if (sn)
			fclose(sn);
		free(canon);
		free(signed_names);
		return err_errno("sigv4");
	}
	for (int i = 0; i < nh; i++)
		fprintf(sn, "%s%s", i ? ";" : "", h[i].name);
	fclose(sn);
	fprintf(c, "%s\n%s\n%s\n", s->method, s->path, s->query ? s->query : "");
	for (int i = 0; i < nh; i++) {
		fprintf(c, "%s:", h[i].name);
		put_value(c, h[i].value);
		fputc('\n', c);
	}
	fprintf(c, "\n%s\n%s", signed_names, s->payload_hash);
	fclose(c);

	unsigned char d[SHA256_LEN];
	char chash[SHA256_HEX], scope[256], sts[512];
	sha256(canon, clen, d);
	sha256_hex(d, chash);
	free(canon);
	snprintf(scope, sizeof scope, "%s/%s/%s/aws4_request", date, s->region, s->service);
	snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256\n%s\n%s\n%s", amz_date, scope, chash);

	size_t klen = strlen(s->secret) + 4;
	unsigned char *k0 = malloc(klen + 1), key[SHA256_LEN];
	if (!k0) {
		free(signed_names);
		return err_errno("sigv4");
	}
	memcpy(k0, "AWS4", 4);
	memcpy(k0 + 4, s->secret, klen - 4);
	hmac(k0, klen, date, key);
	memset(k0, 0, klen);
	free(k0);
	hmac(key, SHA256_LEN, s->region, key);
	hmac(key, SHA256_LEN, s->service, key);
	hmac(key, SHA256_LEN, "aws4_request", key);
	hmac(key, SHA256_LEN, sts, d);
	memset(key, 0, sizeof key);
	char sig[SHA256_HEX];
	sha256_hex(d, sig);
	int n = snprintf(auth, size, "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
	                 s->key_id, scope, signed_names, sig);
	free(signed_names);
	if (n < 0 || (size_t)n >= size)
		return err_set("sigv4: the Authorization header is too long");
	return 0;
}

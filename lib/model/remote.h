/* remote: what the HTTP platforms (openai, replicate, gemini) share.
 *
 * Catalogue parameters every HTTP platform reads from a model's entry:
 *   "model"      the model's name at the platform (default: the id, less a
 *                "PLATFORM:" prefix)
 *   "base_url"   the API's address (default: $PLATFORM_BASE_URL, then the
 *                platform's public address)
 *   "key_env"    the variable holding the key (default: the platform's)
 *   "timeout_ms" per HTTP attempt (the call's own timeout bounds them all)
 *   "allow_http_key"  true: the key may go over plain http to a host that
 *                is not this machine
 * A call's options (struct call_opts) beat the entry for base_url and
 * key_env.
 */
#ifndef PANIC_REMOTE_H
#define PANIC_REMOTE_H

#include <jv.h>

#include "http/http.h"
#include "model/platform.h"

/* The string parameter KEY of C's model, or DEF. */
const char *remote_str(const struct call *c, const char *key, const char *def);
/* The model's name at the platform. */
const char *remote_name(const struct call *c);
/* Checks the parameters above in ENTRY (borrowed); 0 or -1 with err_msg(). */
int remote_check(jv entry);

/* Begins R for C: its URL (the base URL, from the options, the entry,
 * $BASE_ENV or DEF_BASE, then PATH before the base's query), its timeout,
 * deadline and attempts, and the key from KEY_ENV (or the override) sent
 * as "Authorization: Bearer KEY" or, if HEADER is set, as "HEADER: KEY".
 * A missing key fails C (kind no_key) unless the base URL is not the
 * default one (a local server); a key is not sent over plain http except
 * to this machine unless allowed (kind insecure); a base URL that is not
 * http or https fails C (kind config). BODY (consumed; null for a GET) is
 * sent as JSON. Returns 0, or -1 with C failed. */
int remote_request(struct call *c, struct http_req *r, const char *base_env,
                   const char *def_base, const char *path, const char *key_env,
                   const char *header, jv body);
/* Sets R's attempt timeout, deadline (the call's) and attempts from C's
 * options and model, for a request made without remote_request(). */
void remote_bound(const struct call *c, struct http_req *r);
/* 1 if C's model entry has KEY true; remote_flag_false(): KEY false. */
int remote_flag(const struct call *c, const char *key);
int remote_flag_false(const struct call *c, const char *key);
/* Fails C with "MODEL: WHY" and releases what its platform holds. */
void remote_give_up(struct call *c, const char *kind, const char *why);
/* Finishes C with OUTPUT (consumed) and releases what its platform holds;
 * but if the call asked for a schema, an OUTPUT that is not JSON fails it
 * (bad_response). */
void remote_done(struct call *c, jv output);
/* The answer of the finished request R (whose contents it frees) as a JSON
 * object; or, if R failed or the answer is not an object, jv_invalid()
 * with C given up. */
jv remote_answer(struct call *c, struct http_req *r);
/* One streamed event's DATA (N bytes) as a JSON object; or, if it is
 * not one or it reports an error, jv_invalid() with R's kind and msg set
 * (bad_response, or http_5xx for an error event). */
jv remote_event(struct http_req *r, const char *data, size_t n);
/* TEXT (consumed) with PIECE (consumed) added, after handing PIECE to
 * the caller's on_delta if it streams. */
jv remote_delta(struct call *c, jv text, jv piece);
/* Tokens counted over the requests of one call (its tool rounds). */
struct remote_tokens {
	long in, out;
	int any; /* a count was seen */
};
/* Adds IN and OUT (consumed) to T: each counted if it is a whole number
 * from 0 to 2^40, as a token count can be; a server's 1e300 or -5 is not. */
void remote_tokens_add(struct remote_tokens *t, jv in, jv out);
/* Sets C's usage to T's counts, if any were seen. */
void remote_tokens_put(const struct remote_tokens *t, struct call *c);
/* {"input_tokens": IN, "output_tokens": OUT} from two counts (consumed;
 * checked as above), or null if neither is one. */
jv remote_usage(jv in, jv out);

/* Runs the jq program in the entry's KEY on INPUT (consumed): its first
 * result, or jv_invalid() with err_msg(). Programs are compiled once. */
jv remote_jq(struct model *m, const char *key, jv input);
void remote_model_free(struct model *m);

/* S (N bytes) in base64, malloc'd and NUL-terminated. */
char *remote_base64(const char *s, size_t n);

#endif

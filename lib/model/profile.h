/* profile: named settings of chat calls, from profiles.json.
 *
 * A profile is an object of profiles.json (in the config directory, or
 * $PANIC_PROFILES): {"NAME": {"model", "system", "base_url", "key_env",
 * "max_tokens_field" (strings), "temperature" (0 to 2), "max_tokens",
 * "schema" (an object), "allow_http_key", "strict" (booleans)}}. It fills
 * what the command line left unset: a flag beats the profile, and the
 * profile beats the catalogue entry.
 *
 * jv ownership: DOC is borrowed and must outlive O and *MODEL, whose
 * strings point into it; o->schema is set to a copy.
 */
#ifndef PANIC_MODEL_PROFILE_H
#define PANIC_MODEL_PROFILE_H

#include <jv.h>

struct call_opts;

/* The profiles of the file PATH: an object, or jv_invalid() with
 * err_msg() saying why. */
jv profile_load(const char *path);
/* Fills O (and *MODEL, if NULL) from profile NAME of DOC. 0, or -1 with
 * err_msg() (no such profile, a field of the wrong type). */
int profile_apply(jv doc, const char *name, struct call_opts *o, const char **model);

#endif

/* json: small helpers over libjq's jv.
 *
 * jv ownership (as in jq's jv.h): every jv_* call consumes its jv
 * arguments. Here, a parameter named `obj` is BORROWED (not consumed) and a
 * parameter named `val` is CONSUMED. Returned jv values are owned by the
 * caller.
 */
#ifndef PANIC_JSON_H
#define PANIC_JSON_H

#include <jv.h>
#include <stdint.h>
#include <stdio.h>

/* The value of KEY in OBJ (borrowed), or jv_invalid() if OBJ has none. */
jv json_get(jv obj, const char *key);
/* Whether OBJ (borrowed) has KEY. */
int json_has(jv obj, const char *key);
/* KEY's string value and its length, or NULL if absent or not a string.
 * The pointer lives as long as OBJ is not changed or freed. */
const char *json_str(jv obj, const char *key, int *len);
/* The number V (borrowed) as an integer clamped to [MIN, MAX] (so that a
 * 1e300 or an inf from outside never overflows a cast); DEF if V is not
 * a number or is NaN. */
int64_t json_int(jv v, int64_t def, int64_t min, int64_t max);
/* The first element of the array KEY of OBJ (borrowed), or jv_null(). */
jv json_first(jv obj, const char *key);
/* KEY's string value, or DEF if absent or not a string. */
const char *json_str_or(jv obj, const char *key, const char *def);
/* OBJ (consumed) with KEY set to VAL (consumed); an invalid VAL leaves
 * KEY unset. */
jv json_set(jv obj, const char *key, jv val);
/* Writes OBJ (borrowed) compactly, and a newline, to F: the bytes
 * `jq -c .` would write. */
void json_write(FILE *f, jv obj);
/* Writes V (borrowed), or the string S of N bytes, as compact JSON, with
 * no newline: the pieces of json_write(). */
void json_put(FILE *f, jv v);
void json_put_string(FILE *f, const char *s, size_t n);
/* The JSON text S (N bytes) parsed: what jv_parse_sized() gives, value or
 * error, only faster for plain JSON. */
jv json_parse(const char *s, size_t n);
/* V (borrowed) as compact JSON in a malloc'd, NUL-terminated buffer of
 * *LEN bytes, or NULL. */
char *json_dump(jv v, size_t *len);
/* A field to set in a record written with json_write_with(): the string
 * STR if it is not NULL (VAL is then ignored), else VAL. */
struct json_field {
	const char *key;
	jv val;
	const char *str;
};
/* Writes REC (borrowed) with the N FIELDS set (their VALs consumed),
 * compactly, and a newline. RAW, if not NULL, is REC's compact text (as
 * nd_raw() gives it): when REC has none of the fields' keys, RAW is written
 * as it is and the fields are appended, so the caller's bytes pass through
 * untouched (numbers beyond a double's precision included). */
void json_write_with(FILE *f, jv rec, const char *raw, size_t rawlen,
                     struct json_field *fields, int n);
/* Bit j set for each NAMES[j] (j < 32) that is a key of OBJ (borrowed):
 * one pass over OBJ's keys, for the common small record. */
unsigned json_key_mask(jv obj, const char *const names[], int n);
/* The file PATH's one JSON value, or, if it holds several (or none), an
 * array of them; jv_invalid() with jq's message if it does not parse (or
 * is over JSON_FILE_MAX bytes). */
#define JSON_FILE_MAX ((size_t)64 << 20)
jv json_load_file(const char *path);
/* A one-line description of the invalid VAL (consumed), from its message,
 * without jq's "(while parsing '...')" echo of the whole input; for a
 * valid VAL, "got KIND". */
void json_error_text(jv val, char *buf, size_t size);

#endif

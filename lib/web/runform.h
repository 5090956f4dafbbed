/* runform: the form of a suspension, made from its schema, and the answer
 * it holds. Private to lib/web (runs.c).
 *
 * A field is made from its type: string a text box, boolean a checkbox
 * (absent is false), integer and float a number box, anything else (map,
 * list, a nested object or list type) a JSON text area; its name is
 * "f.KEY". A value becomes JSON by its type, and one that does not parse
 * as its type is sent as the string it is, so the schema's own message
 * refuses it ("field 'n': expected integer, got string"). Empty optional
 * fields are left out. An error ({field, message} of flow_schema_errors)
 * is shown next to the top-level field its path starts with.
 *
 * jv ownership: parameters are borrowed; returned jv are the caller's.
 */
#ifndef PANIC_WEB_RUNFORM_H
#define PANIC_WEB_RUNFORM_H

#include <jv.h>

struct html;
struct web_req;

/* The value of a field of schema type TYPE sent as S (NULL: absent), or
 * jv_invalid() to leave it out. */
jv runform_value(jv type, const char *s);
/* The answer REQ's form holds for SCHEMA. */
jv runform_answer(struct web_req *req, jv schema);
/* The messages of ERRORS about KEY of SCHEMA (NULL: about none of its
 * fields), escaped. */
void runform_errors(struct html *h, jv schema, jv errors, const char *key);
/* Field number I of form FORM_ID: KEY of type T, with the value VALUES
 * (the form as sent: {"f.KEY": text}, or null) holds and its errors. */
void runform_field(struct html *h, const char *form_id, int i, const char *key, jv t, jv values,
                   jv schema, jv errors);

#endif

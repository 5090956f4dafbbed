/* schema: what a suspended step asks of the human who resumes it.
 *
 * A schema is an object of fields and their types:
 *   {"approved": "boolean", "notes": "string?", "budget": "float",
 *    "owner": {"name": "string"}, "tags": ["string"]}
 * Types: "string", "boolean", "integer" (a number without a fraction),
 * "float" (any number), "map" (an object), "list" (an array). A "?" after
 * the type makes the field optional (absent or null). An object is a map
 * whose fields follow that schema; an array of one type is a list whose
 * items are of it. Fields the schema does not name are kept as given.
 *
 * Pure: values in, a verdict out. Messages name the field by its path
 * ("owner.name", "tags[2]"). For a form, a missing or mistyped field
 * does not hide the others (flow_schema_errors).
 *
 * jv ownership: parameters are borrowed.
 */
#ifndef PANIC_FLOW_SCHEMA_H
#define PANIC_FLOW_SCHEMA_H

#include <jv.h>
#include <stddef.h>

/* 0 if SCHEMA is a valid schema, else -1 with why in WHY (SIZE bytes). */
int flow_schema_check(jv schema, char *why, size_t size);
/* 0 if INPUT (an object) meets the valid SCHEMA, else -1 with why (the
 * first error). */
int flow_schema_validate(jv schema, jv input, char *why, size_t size);
/* Every error of INPUT against SCHEMA, for a form that shows each next
 * to its field: an array (empty if INPUT meets it) of {"field": PATH,
 * "message": WHY}, WHY as flow_schema_validate gives it; field is null for
 * what is not one field's (INPUT is not an object, SCHEMA is not valid).
 * At most FLOW_SCHEMA_ERRORS_MAX. */
#define FLOW_SCHEMA_ERRORS_MAX 100
jv flow_schema_errors(jv schema, jv input);

#endif

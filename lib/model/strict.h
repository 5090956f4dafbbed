/* strict: a JSON schema completed for OpenAI's strict structured outputs.
 *
 * OpenAI takes a response schema with "strict": true only if every object
 * in it lists all its properties as required and forbids others
 * (additionalProperties: false). A schema written for people rarely does.
 * strict_schema() completes one the way OpenAI's own SDKs do: each object
 * gets additionalProperties false and all its properties required, and a
 * property that was optional becomes nullable (the model answers null for
 * it), so the answer means what the schema meant.
 *
 * jv ownership: strict_schema() consumes its argument.
 */
#ifndef PANIC_MODEL_STRICT_H
#define PANIC_MODEL_STRICT_H

#include <jv.h>

/* SCHEMA completed for strict mode, or jv_invalid() if it cannot be made
 * strict without changing what it allows: its root is not an object
 * schema, or an object allows properties it does not name. */
jv strict_schema(jv schema);

#endif

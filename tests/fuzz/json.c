/* json: the plain-JSON parser against jq's own on the same text: both an
 * error, or the same value (compared as jq writes them, so that NaN is
 * null); and our writer's text read back by jq gives that value again. */
#include <stdlib.h>
#include <string.h>

#include "json/json.h"

int fuzz_one(const unsigned char *data, size_t n)
{
	jv a = json_parse((const char *)data, n);
	jv b = jv_parse_sized((const char *)data, (int)n);
	if (jv_is_valid(a) != jv_is_valid(b))
		abort();
	if (jv_is_valid(a)) {
		jv ta = jv_dump_string(jv_copy(a), 0), tb = jv_dump_string(jv_copy(b), 0);
		if (strcmp(jv_string_value(ta), jv_string_value(tb)))
			abort();
		size_t len;
		char *d = json_dump(a, &len); /* our writer, read back by jq */
		jv c = d ? jv_parse_sized(d, (int)len) : jv_invalid();
		jv tc = jv_is_valid(c) ? jv_dump_string(c, 0) : (jv_free(c), jv_string(""));
		if (d && strcmp(jv_string_value(tb), jv_string_value(tc)))
			abort();
		jv_free(tc);
		free(d);
		jv_free(ta);
		jv_free(tb);
	}
	jv_free(a);
	jv_free(b);
	return 0;
}

/* stagekey: the key of a run started by a record without _run, so that
 * the same record fed again finds the same run; see stage.h. */
#include <stdlib.h>
#include <string.h>

#include "base/md5.h"
#include "flow/stagei.h"
#include "json/json.h"

/* Where key K is in the open-addressed table T of CAP places (a power of
 * two, 0 marking an empty place), or the empty place where it would go. */
static size_t place(const uint64_t *t, size_t cap, uint64_t k)
{
	size_t j = k & (cap - 1);
	while (t[j] && t[j] != k)
		j = (j + 1) & (cap - 1);
	return j;
}

/* The exact count of hash H, counting this one; H not yet counted is
 * taken as FIRST. */
static uint32_t counted(struct stage *s, uint64_t h, uint32_t first)
{
	if (h == 0)
		h = 1; /* 0 marks an empty place */
	if (s->seen_len * 2 >= s->seen_cap) {
		size_t cap = s->seen_cap ? s->seen_cap * 2 : 1024;
		uint64_t *k = calloc(cap, sizeof *k);
		uint32_t *n = calloc(cap, sizeof *n);
		if (!k || !n) {
			free(k);
			free(n);
			return 1;
		}
		for (size_t i = 0; i < s->seen_cap; i++) {
			if (!s->seen[i])
				continue;
			size_t j = place(k, cap, s->seen[i]);
			k[j] = s->seen[i];
			n[j] = s->seen_n[i];
		}
		free(s->seen);
		free(s->seen_n);
		s->seen = k;
		s->seen_n = n;
		s->seen_cap = cap;
	}
	size_t j = place(s->seen, s->seen_cap, h);
	if (!s->seen[j]) {
		s->seen[j] = h;
		s->seen_n[j] = first - 1;
		s->seen_len++;
	}
	return ++s->seen_n[j];
}

/* How many records of the 64-bit hash H came before on this input,
 * counting this one. A Bloom filter of BLOOM_BITS bits tells a record
 * never seen (the common case) without keeping it; one it may have seen
 * is counted exactly (a false positive then counts 2, as a second one
 * would). Both depend only on the records before, so the same input gives
 * the same counts, whatever comes after. */
#define BLOOM_BITS (1u << 22)
static uint32_t occurrence(struct stage *s, uint64_t h)
{
	if (!s->bloom && !(s->bloom = calloc(BLOOM_BITS / 64, sizeof *s->bloom)))
		return counted(s, h, 1);
	uint64_t a = h, b = (h >> 29 | h << 35) | 1;
	int all = 1;
	for (int i = 0; i < 3; i++) {
		uint32_t bit = (uint32_t)((a + (uint64_t)i * b) & (BLOOM_BITS - 1));
		uint64_t m = 1ull << (bit & 63);
		all &= (s->bloom[bit >> 6] & m) != 0;
		s->bloom[bit >> 6] |= m;
	}
	return all ? counted(s, h, 2) : 1;
}

/* The run key of a record without _run, a 64-bit hash: of the workflow
 * and KEY (its _key), or of the workflow, the record's bytes (TEXT, N
 * bytes, or its dump) and how many identical records came before it. */
int64_t stage_run_key(struct stage *s, jv ctx, jv key, const char *text, size_t n)
{
	const char *scope = s->cfg.workflow_file ? s->cfg.workflow_file
	                    : s->cfg.workflow ? s->cfg.workflow : s->step->name;
	char hex[33], h16[17];
	jv k;
	if (jv_get_kind(key) == JV_KIND_STRING) {
		k = jv_string_fmt("%s\n_key:%s", scope, jv_string_value(key));
	} else {
		char *dump = NULL;
		if (!text)
			text = dump = stage_dump(s, ctx, &n);
		md5_hex2(text ? text : "", text ? n : 0, NULL, 0, hex);
		free(dump);
		memcpy(h16, hex, 16);
		h16[16] = 0;
		uint32_t nth = occurrence(s, strtoull(h16, NULL, 16));
		k = jv_string_fmt("%s\n%s#%u", scope, hex, nth);
	}
	md5_hex2(jv_string_value(k), (size_t)jv_string_length_bytes(jv_copy(k)), NULL, 0, hex);
	jv_free(k);
	memcpy(h16, hex, 16);
	h16[16] = 0;
	int64_t h = (int64_t)strtoull(h16, NULL, 16);
	return h ? h : 1;
}

int stage_made(struct stage *s, int64_t key, int add)
{
	uint64_t k = (uint64_t)key ? (uint64_t)key : 1; /* 0 marks an empty place */
	if (add && s->made_len * 2 >= s->made_cap) {
		size_t cap = s->made_cap ? s->made_cap * 2 : 1024;
		uint64_t *t = calloc(cap, sizeof *t);
		if (!t)
			return -1;
		for (size_t i = 0; i < s->made_cap; i++)
			if (s->made[i])
				t[place(t, cap, s->made[i])] = s->made[i];
		free(s->made);
		s->made = t;
		s->made_cap = cap;
	}
	if (!s->made_cap)
		return 0;
	size_t j = place(s->made, s->made_cap, k);
	if (s->made[j])
		return 1;
	if (add) {
		s->made[j] = k;
		s->made_len++;
	}
	return 0;
}

void stage_made_clear(struct stage *s)
{
	if (s->made_len)
		memset(s->made, 0, s->made_cap * sizeof *s->made);
	s->made_len = 0;
}

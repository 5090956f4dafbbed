/* platform_dummy: offline, deterministic models (DESIGN.md §5).
 *
 * The output depends only on the model's input and output types and the
 * input, as PANIC!'s platforms/dummy.ex:
 *   text->text    "DUMMY_TEXT: " + input reversed by character
 *   text->image   https://dummy-images.test/<md5(input)>.png
 *   text->audio   https://dummy-audio.test/<md5(input)>.ogg
 *   image->text   "DUMMY_CAPTION: Image with hash <h>" for a dummy image URL
 *                 (h: its last path segment without .png), else
 *                 "DUMMY_CAPTION: A descriptive caption for image <md5[0:8]>"
 *   image->image  https://dummy-images.test/transformed_<md5(in+"_transformed")>.png
 *   image->audio  https://dummy-audio.test/from_image_<md5(in+"_audio")>.ogg
 *   audio->text   "DUMMY_TRANSCRIPT: Audio content from <md5[0:8]>"
 *   audio->image  https://dummy-images.test/from_audio_<md5(in+"_image")>.png
 *   audio->audio  https://dummy-audio.test/transformed_<md5(in+"_transformed")>.ogg
 *
 * Failure injection, from the catalogue entry or the environment (the
 * environment wins): fail_first / PANIC_DUMMY_FAIL_FIRST=N fails the first N
 * calls of each model in this process; fail / PANIC_DUMMY_FAIL=1 fails every
 * call; fail_match / PANIC_DUMMY_FAIL_MATCH=S fails calls whose input
 * contains S; delay_ms / PANIC_DUMMY_DELAY_MS=N finishes calls N ms later,
 * without blocking other calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/grapheme.h"
#include "base/md5.h"
#include "json/json.h"
#include "model/catalogue.h"
#include "model/platform.h"

struct inject {
	long fail_first, delay_ms;
	int fail;
	const char *fail_match;
};

static long num(jv entry, const char *key, const char *env)
{
	const char *e = getenv(env);
	if (e && *e)
		return strtol(e, NULL, 10);
	jv v = json_get(entry, key);
	long n = jv_get_kind(v) == JV_KIND_TRUE ? 1 : (long)json_int(v, 0, 0, INT32_MAX);
	jv_free(v);
	return n;
}

/* The model's injection settings, read once and kept in m->priv. */
static struct inject *injected(struct model *m)
{
	if (m->priv)
		return m->priv;
	struct inject *in = calloc(1, sizeof *in);
	if (!in)
		return NULL;
	in->fail_first = num(m->entry, "fail_first", "PANIC_DUMMY_FAIL_FIRST");
	in->delay_ms = num(m->entry, "delay_ms", "PANIC_DUMMY_DELAY_MS");
	in->fail = num(m->entry, "fail", "PANIC_DUMMY_FAIL") != 0;
	in->fail_match = getenv("PANIC_DUMMY_FAIL_MATCH");
	if (!in->fail_match || !*in->fail_match)
		in->fail_match = json_str(m->entry, "fail_match", NULL);
	m->priv = in;
	return in;
}

static int check(jv entry)
{
	static const char *const nums[] = { "fail_first", "delay_ms" };
	for (int i = 0; i < 2; i++) {
		jv v = json_get(entry, nums[i]);
		int ok = !jv_is_valid(v) || (jv_get_kind(v) == JV_KIND_NUMBER &&
		                             jv_number_value(v) >= 0);
		jv_free(v);
		if (!ok)
			return err_set("\"%s\" must be a non-negative number", nums[i]);
	}
	return 0;
}

static jv url(const char *host, const char *prefix, const char *in, int n,
              const char *suffix, const char *ext)
{
	char hex[33];
	md5_hex2(in, (size_t)n, suffix, suffix ? strlen(suffix) : 0, hex);
	return jv_string_fmt("https://%s/%s%s.%s", host, prefix, hex, ext);
}

static jv transform(int from, int to, const char *in, int n)
{
	char hex[33];
	switch (from * 3 + to) {
	case MT_TEXT * 3 + MT_TEXT: {
		/* Not jv_string_empty(): in jq 1.6 it makes a string of length 0. */
		char small[512], *p = n + 12 <= (int)sizeof small ? small : malloc((size_t)n + 12);
		if (!p)
			return jv_invalid_with_msg(jv_string("out of memory"));
		memcpy(p, "DUMMY_TEXT: ", 12);
		grapheme_reverse(in, (size_t)n, p + 12);
		jv out = jv_string_sized(p, n + 12);
		if (p != small)
			free(p);
		return out;
	}
	case MT_TEXT * 3 + MT_IMAGE:
		return url("dummy-images.test", "", in, n, NULL, "png");
	case MT_TEXT * 3 + MT_AUDIO:
		return url("dummy-audio.test", "", in, n, NULL, "ogg");
	case MT_IMAGE * 3 + MT_TEXT:
		if (memmem(in, (size_t)n, "dummy-images.test", 17)) {
			/* The last path segment, every ".png" in it removed. */
			const char *p = in + n, *end = in + n;
			while (p > in && p[-1] != '/')
				p--;
			jv out = jv_string("DUMMY_CAPTION: Image with hash ");
			for (;;) {
				const char *q = memmem(p, (size_t)(end - p), ".png", 4);
				out = jv_string_append_buf(out, p, (int)((q ? q : end) - p));
				if (!q)
					return out;
				p = q + 4;
			}
		}
		md5_hex2(in, (size_t)n, NULL, 0, hex);
		return jv_string_fmt("DUMMY_CAPTION: A descriptive caption for image %.8s", hex);
	case MT_IMAGE * 3 + MT_IMAGE:
		return url("dummy-images.test", "transformed_", in, n, "_transformed", "png");
	case MT_IMAGE * 3 + MT_AUDIO:
		return url("dummy-audio.test", "from_image_", in, n, "_audio", "ogg");
	case MT_AUDIO * 3 + MT_TEXT:
		md5_hex2(in, (size_t)n, NULL, 0, hex);
		return jv_string_fmt("DUMMY_TRANSCRIPT: Audio content from %.8s", hex);
	case MT_AUDIO * 3 + MT_IMAGE:
		return url("dummy-images.test", "from_audio_", in, n, "_image", "png");
	default:
		return url("dummy-audio.test", "transformed_", in, n, "_transformed", "ogg");
	}
}

struct pending {
	int64_t due;
	jv output;
	char *error; /* injected failure message, or NULL */
};

static void start(struct call *c)
{
	struct model *m = c->model;
	struct inject *inp = injected(m);
	if (!inp) {
		call_fail(c, "cancelled", "out of memory");
		return;
	}
	struct inject in = *inp;
	const char *s = jv_string_value(c->input);
	int n = jv_string_length_bytes(jv_copy(c->input));
	char why[160] = "";

	if (in.fail)
		snprintf(why, sizeof why, "dummy: injected failure (every call fails)");
	else if (m->ncalls <= in.fail_first)
		snprintf(why, sizeof why, "dummy: injected failure (call %ld of the first %ld)",
		         m->ncalls, in.fail_first);
	else if (in.fail_match && *in.fail_match &&
	         memmem(s, (size_t)n, in.fail_match, strlen(in.fail_match)))
		snprintf(why, sizeof why, "dummy: injected failure (input contains \"%s\")",
		         in.fail_match);

	jv out = *why ? jv_null() : transform(m->input, m->output, s, n);
	if (!jv_is_valid(out)) {
		jv_free(out);
		call_fail(c, "cancelled", "out of memory");
		return;
	}
	if (in.delay_ms <= 0) {
		if (*why)
			call_fail(c, "injected", "%s", why);
		else
			call_done(c, out);
		return;
	}
	struct pending *p = malloc(sizeof *p);
	if (!p) {
		jv_free(out);
		call_fail(c, "cancelled", "out of memory");
		return;
	}
	p->due = c->t0 + in.delay_ms;
	p->output = out;
	p->error = *why ? strdup(why) : NULL;
	c->priv = p;
}

static int fds(struct call *c, struct pollfd *pfd, int max, int64_t *deadline)
{
	(void)pfd, (void)max;
	*deadline = ((struct pending *)c->priv)->due;
	return 0;
}

static void release(struct call *c)
{
	struct pending *p = c->priv;
	if (!p)
		return;
	jv_free(p->output);
	free(p->error);
	free(p);
	c->priv = NULL;
}

static void step(struct call *c, struct pollfd *pfd, int n, int64_t now)
{
	(void)pfd, (void)n;
	struct pending *p = c->priv;
	if (now < p->due)
		return;
	if (p->error)
		call_fail(c, "injected", "%s", p->error);
	else
		call_done(c, jv_copy(p->output));
	release(c);
}

static void model_free(struct model *m)
{
	free(m->priv);
}

const struct platform platform_dummy = {
	.name = "dummy",
	.model_free = model_free,
	.check = check,
	.start = start,
	.fds = fds,
	.step = step,
	.cancel = release,
};

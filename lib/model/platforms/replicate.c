/* platform_replicate: Replicate's predictions (DESIGN.md §5).
 *
 * POST /models/OWNER/NAME/predictions (or /predictions with the entry's
 * "version"; "latest" looks up the model's latest version first, for a
 * community model) with "Prefer: wait", then, while the prediction is starting
 * or processing, GET its urls.get every "poll_ms" (default 500) until it
 * has succeeded, failed or been canceled, or the call's time is up
 * ("timeout_ms" for each request; "deadline_ms", default 10 min, for the
 * whole prediction).
 *
 * The prediction's input is the entry's "params" object with the call's
 * input under "input_key" (default prompt, image or audio by the input
 * type), or what the jq program "request_jq" makes of the input. The
 * output is what "output_jq" makes of the prediction's output, or by
 * default: a string as it is; a list of strings joined (text) or its
 * first (image, audio). A model that writes text also gets the call's
 * system prompt, temperature and max tokens as "system_prompt",
 * "temperature" and "max_tokens", as Replicate's language models name
 * them. With --stream it is asked for a stream: the text of its "output"
 * events goes out as deltas while it runs, and the prediction itself, got
 * when the stream ends (or breaks), gives the output and the usage.
 * A prediction that fails as NSFW is tried once
 * more with the entry's "safe_prompt", as PANIC! does; failing again, the
 * call fails with kind refused. A prediction still running when its call
 * ends (a deadline, a call abandoned) is cancelled at Replicate, so it
 * stops costing. Key: REPLICATE_API_TOKEN.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "base/timeutil.h"
#include "http/sse.h"
#include "json/json.h"
#include "model/catalogue.h"
#include "model/remote.h"

#define REPLICATE_BASE "https://api.replicate.com/v1"
#define POLL_MS 500
#define DEADLINE_MS (10 * 60 * 1000)
#define SAFE_PROMPT "a calm landscape in soft morning light"

struct rep {
	struct http_req req;
	int safe_tried;
	int64_t poll_at; /* monotonic ms; 0: not waiting to poll */
	char *get_url;
	jv prompt;       /* the input, while the version is looked up */
	struct http_req *cancel; /* POST urls.cancel, while the prediction runs */
	struct sse sse;  /* its stream of output, while it is read */
	int streamed;    /* the stream was read (or could not be) */
};

static int check(jv entry)
{
	if (remote_check(entry) < 0)
		return -1;
	jv p = json_get(entry, "params");
	int ok = !jv_is_valid(p) || jv_get_kind(p) == JV_KIND_OBJECT;
	jv_free(p);
	return ok ? 0 : err_set("\"params\" must be an object");
}

static void release(struct call *c)
{
	struct rep *r = c->priv;
	if (!r)
		return;
	http_cancel(&r->req); /* if in flight; frees what it holds */
	free(r->get_url);
	jv_free(r->prompt);
	sse_free(&r->sse);
	if (r->cancel) /* the call ends while the prediction runs */
		http_fire(r->cancel);
	free(r);
	c->priv = NULL;
}

static void done(struct call *c, jv output)
{
	call_done(c, output);
	release(c);
}

static void on_answer(struct http_req *q);
static void on_model(struct http_req *q);

/* Whether C asks for its text as it comes. */
static int streams(const struct call *c)
{
	return c->opts && c->opts->stream && c->model->output == MT_TEXT;
}

static void send(struct call *c, const char *path, jv body)
{
	struct rep *r = c->priv;
	if (remote_request(c, &r->req, "REPLICATE_BASE_URL", REPLICATE_BASE, path,
	                   "REPLICATE_API_TOKEN", NULL, body) < 0) {
		release(c);
		return;
	}
	if (r->req.body && !streams(c)) /* creating: wait for the answer if it comes soon */
		http_header(&r->req, "Prefer", remote_str(c, "prefer", "wait"));
	r->req.on_done = jv_is_valid(r->prompt) ? on_model : on_answer;
	r->req.user = c;
	http_start(&r->req);
}

static void create_version(struct call *c, jv input, const char *version);

/* Creates the prediction for INPUT (borrowed). */
static void create(struct call *c, jv input)
{
	const char *version = remote_str(c, "version", NULL);
	if (version && !strcmp(version, "latest")) {
		struct rep *r = c->priv;
		char path[600];
		snprintf(path, sizeof path, "/models/%s", remote_name(c));
		jv_free(r->prompt);
		r->prompt = jv_copy(input);
		send(c, path, jv_null());
		return;
	}
	create_version(c, input, version);
}

/* The model's latest version is known: create the prediction. */
static void on_model(struct http_req *q)
{
	struct call *c = q->user;
	struct rep *r = c->priv;
	jv m = remote_answer(c, q);
	if (!jv_is_valid(m))
		return;
	jv lv = json_get(m, "latest_version");
	const char *id = json_str(lv, "id", NULL);
	jv prompt = r->prompt;
	r->prompt = jv_invalid();
	if (!id)
		remote_give_up(c, "bad_response", "the model has no latest_version.id");
	else
		create_version(c, prompt, id);
	jv_free(prompt);
	jv_free(lv);
	jv_free(m);
}

static void create_version(struct call *c, jv input, const char *version)
{
	struct model *m = c->model;
	jv in;
	if (json_str(m->entry, "request_jq", NULL)) {
		in = remote_jq(m, "request_jq", jv_copy(input));
		if (jv_get_kind(in) != JV_KIND_OBJECT) {
			char why[400];
			snprintf(why, sizeof why, "request_jq: %s",
			         jv_is_valid(in) ? "did not make an object" : err_msg());
			jv_free(in);
			remote_give_up(c, "bad_response", why);
			return;
		}
	} else {
		static const char *const keys[] = { "prompt", "image", "audio" };
		in = json_get(m->entry, "params");
		if (jv_get_kind(in) != JV_KIND_OBJECT) {
			jv_free(in);
			in = jv_object();
		}
		in = json_set(in, remote_str(c, "input_key", keys[m->input]), jv_copy(input));
	}
	const struct call_opts *op = c->opts;
	if (m->output == MT_TEXT && op) {
		const char *sys = op->system ? op->system : remote_str(c, "system", NULL);
		if (sys)
			in = json_set(in, "system_prompt", jv_string(sys));
		if (op->temperature >= 0)
			in = json_set(in, "temperature", jv_number(op->temperature));
		if (op->max_tokens > 0)
			in = json_set(in, "max_tokens", jv_number((double)op->max_tokens));
	}
	jv body = json_set(jv_object(), "input", in);
	if (streams(c))
		body = json_set(body, "stream", jv_true());
	char path[600];
	if (version) {
		body = json_set(body, "version", jv_string(version));
		snprintf(path, sizeof path, "/predictions");
	} else {
		snprintf(path, sizeof path, "/models/%s/predictions", remote_name(c));
	}
	send(c, path, body);
}

/* The call's output from the prediction's OUTPUT (consumed). */
static void extract(struct call *c, jv out)
{
	struct model *m = c->model;
	if (json_str(m->entry, "output_jq", NULL)) {
		out = remote_jq(m, "output_jq", out);
		if (!jv_is_valid(out)) {
			char why[400];
			snprintf(why, sizeof why, "output_jq: %s", err_msg());
			remote_give_up(c, "bad_response", why);
			return;
		}
	} else if (jv_get_kind(out) == JV_KIND_ARRAY && jv_array_length(jv_copy(out)) > 0) {
		if (m->output == MT_TEXT) {
			jv s = jv_string("");
			jv_array_foreach(out, i, x) {
				(void)i;
				if (jv_get_kind(x) == JV_KIND_STRING)
					s = jv_string_concat(s, x);
				else
					jv_free(x);
			}
			jv_free(out);
			out = s;
		} else {
			out = jv_array_get(out, 0);
		}
	}
	if (jv_get_kind(out) != JV_KIND_STRING) {
		char why[200];
		snprintf(why, sizeof why, "the output is %s, not a string (set output_jq)",
		         jv_kind_name(jv_get_kind(out)));
		jv_free(out);
		remote_give_up(c, "bad_response", why);
		return;
	}
	done(c, out);
}

/* One event of the prediction's stream. */
static int on_event(void *user, const char *type, const char *data, size_t n)
{
	struct call *c = user;
	if (!strcmp(type, "output") && n && c->opts->on_delta)
		c->opts->on_delta(c, data, n);
	return 0;
}

static int on_sse(struct http_req *q, const char *p, size_t n)
{
	struct call *c = q->user;
	struct rep *r = c->priv;
	return sse_feed(&r->sse, p, n, on_event, c);
}

/* The stream has ended, or broken off, or could not be read: the
 * prediction says how it went. */
static void on_stream_end(struct http_req *q)
{
	struct call *c = q->user;
	struct rep *r = c->priv;
	if (!q->kind)
		sse_end(&r->sse, on_event, c);
	sse_free(&r->sse);
	http_free(q);
	send(c, r->get_url, jv_null());
}

/* Reads the prediction's stream at URL, writing its text as it comes. */
static void read_stream(struct call *c, const char *url)
{
	struct rep *r = c->priv;
	if (remote_request(c, &r->req, "REPLICATE_BASE_URL", REPLICATE_BASE, url,
	                   "REPLICATE_API_TOKEN", NULL, jv_null()) < 0) {
		release(c);
		return;
	}
	http_header(&r->req, "Accept", "text/event-stream");
	r->req.max_attempts = 1; /* a broken stream falls back to the prediction */
	r->req.on_data = on_sse;
	r->req.on_done = on_stream_end;
	r->req.user = c;
	sse_init(&r->sse);
	http_start(&r->req);
}

static void on_answer(struct http_req *q)
{
	struct call *c = q->user;
	struct rep *r = c->priv;
	jv p = remote_answer(c, q);
	if (!jv_is_valid(p))
		return;
	jv metrics = json_get(p, "metrics");
	jv u = remote_usage(json_get(metrics, "input_token_count"),
	                    json_get(metrics, "output_token_count"));
	jv_free(metrics);
	if (jv_get_kind(u) == JV_KIND_OBJECT) {
		jv_free(c->usage);
		c->usage = u;
	} else {
		jv_free(u);
	}
	const char *status = json_str_or(p, "status", "");
	int running = !strcmp(status, "starting") || !strcmp(status, "processing");
	if (!running && r->cancel) { /* it has ended: nothing to cancel */
		http_free(r->cancel);
		free(r->cancel);
		r->cancel = NULL;
	}
	if (!strcmp(status, "succeeded")) {
		jv out = json_get(p, "output");
		jv_free(p);
		extract(c, out);
		return;
	}
	if (!strcmp(status, "failed") || !strcmp(status, "canceled")) {
		jv e = json_get(p, "error");
		char why[400];
		snprintf(why, sizeof why, "prediction %s: %s", status,
		         jv_get_kind(e) == JV_KIND_STRING ? jv_string_value(e) : "no reason given");
		int nsfw = jv_get_kind(e) == JV_KIND_STRING && strcasestr(jv_string_value(e), "nsfw");
		const char *kind = nsfw ? "refused" : *status == 'c' ? "cancelled" : "model_error";
		jv_free(e);
		jv_free(p); /* status with it */
		if (nsfw && !r->safe_tried && c->model->input == MT_TEXT) {
			r->safe_tried = 1;
			jv safe = jv_string(remote_str(c, "safe_prompt", SAFE_PROMPT));
			create(c, safe);
			jv_free(safe);
			return;
		}
		remote_give_up(c, kind, why);
		return;
	}
	if (strcmp(status, "starting") && strcmp(status, "processing")) {
		char why[200];
		snprintf(why, sizeof why, "unknown prediction status '%.40s'", status);
		jv_free(p);
		remote_give_up(c, "bad_response", why);
		return;
	}
	jv urls = json_get(p, "urls");
	const char *get = json_str(urls, "get", NULL), *cancel = json_str(urls, "cancel", NULL);
	const char *stream = json_str(urls, "stream", NULL);
	free(r->get_url);
	r->get_url = get ? strdup(get) : NULL;
	if (cancel && !r->cancel && (r->cancel = calloc(1, sizeof *r->cancel))) {
		/* ready to send, with the key, if the call ends before the
		 * prediction does; remote_request fails the call only for what
		 * would fail its polls too */
		if (remote_request(c, r->cancel, "REPLICATE_BASE_URL", REPLICATE_BASE, cancel,
		                   "REPLICATE_API_TOKEN", NULL, jv_null()) < 0) {
			free(r->cancel);
			r->cancel = NULL;
			jv_free(urls);
			jv_free(p);
			release(c);
			return;
		}
		r->cancel->body = strdup("");
	}
	if (!r->get_url) {
		jv_free(urls);
		jv_free(p);
		remote_give_up(c, "bad_response", "a prediction in progress without urls.get");
		return;
	}
	if (stream && streams(c) && !r->streamed) {
		r->streamed = 1;
		read_stream(c, stream);
		jv_free(urls);
		jv_free(p);
		return;
	}
	jv_free(urls);
	jv_free(p);
	jv dl = json_get(c->model->entry, "deadline_ms");
	int64_t deadline = json_int(dl, DEADLINE_MS, 0, INT64_MAX / 2);
	jv_free(dl);
	int64_t now = time_mono_ms();
	if (now - c->t0 > deadline) {
		char why[100];
		snprintf(why, sizeof why, "still running after %lld ms", (long long)(now - c->t0));
		remote_give_up(c, "timeout", why);
		return;
	}
	jv pm = json_get(c->model->entry, "poll_ms");
	r->poll_at = now + json_int(pm, POLL_MS, 0, 3600 * 1000);
	jv_free(pm);
}

static int fds(struct call *c, struct pollfd *p, int max, int64_t *deadline)
{
	(void)p, (void)max;
	struct rep *r = c->priv;
	if (r->poll_at)
		*deadline = r->poll_at;
	return 0;
}

static void step(struct call *c, struct pollfd *p, int n, int64_t now)
{
	(void)p, (void)n;
	struct rep *r = c->priv;
	if (!r || !r->poll_at || now < r->poll_at)
		return;
	r->poll_at = 0;
	send(c, r->get_url, jv_null());
}

static void start(struct call *c)
{
	struct rep *r = calloc(1, sizeof *r);
	if (!r) {
		call_fail(c, "cancelled", "out of memory");
		return;
	}
	r->prompt = jv_invalid();
	sse_init(&r->sse);
	c->priv = r;
	create(c, c->input);
}

const struct platform platform_replicate = {
	.name = "replicate",
	.check = check,
	.start = start,
	.fds = fds,
	.step = step,
	.cancel = release,
	.model_free = remote_model_free,
	.shared_fds = http_fds,
	.shared_step = http_step,
};

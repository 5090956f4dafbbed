/* panic-archive: image and audio outputs made permanent (DESIGN.md §6).
 *
 * Reads records (panic-invoke's, panic-loop's, or any with a URL in
 * --from), and for each image or audio output downloads it, stores it in
 * the archive directory by the SHA-256 of its content, converts and
 * uploads it when asked, and writes the record back with the output
 * rewritten to the archived location and an "archive" object saying what
 * was done. Other records pass through untouched. Up to -j outputs are in
 * flight at once and records still come out in input order. A record of a
 * stored invocation (panic-loop's) also has its row rewritten, and the next
 * invocation's input.
 *
 * What is an image or audio output: the record's output_type, else the
 * catalogue's output type of its model, else --type, else any http(s) URL
 * (its bytes then decide).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/archive.h"
#include "archive/config.h"
#include "base/err.h"
#include "cli/prog.h"
#include "json/json.h"
#include "json/loop.h"
#include "json/ndjson.h"
#include "model/catalogue.h"
#include "state/archive.h"
#include "state/db.h"

static const char usage[] =
	"usage: panic-archive [OPTION]...\n"
	"Archive the image and audio outputs of records read on stdin: download\n"
	"each, store it by the SHA-256 of its content, convert and upload it when\n"
	"asked, and write the record with its output rewritten to the archived\n"
	"location and an \"archive\" object. Other records pass through.\n"
	"\n"
	"  -j, --jobs N          outputs in flight at once (default 4); order is kept\n"
	"      --from FIELD      the field holding the URL (default \"output\")\n"
	"      --type TYPE       image or audio, for records that do not say\n"
	"      --dir DIR         the archive (default $PANIC_ARCHIVE or\n"
	"                        ~/.local/share/panic/archive)\n"
	"      --convert         images to webp, audio to ogg, as PANIC! does\n"
	"      --image-format F  keep (default) or webp\n"
	"      --audio-format F  keep (default), mp3 or ogg\n"
	"      --max-bytes N     largest download (default 100M; K, M, G)\n"
	"      --timeout SECS    per download, conversion and upload (default 120)\n"
	"      --base-url URL    where the archive is served: outputs become\n"
	"                        URL/ab/SHA256.EXT (default: file:// URLs)\n"
	"      --endpoint URL    upload to this S3-compatible endpoint\n"
	"                        (default $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL)\n"
	"      --bucket NAME     the bucket\n"
	"      --region NAME     its region (default $AWS_REGION or us-east-1)\n"
	"      --prefix TEXT     before every object's key\n"
	"      --public-url URL  where the objects are read (default ENDPOINT/BUCKET)\n"
	"      --config FILE     settings (default ~/.config/panic/archive.json)\n"
	"      --models FILE     user catalogue (default $PANIC_MODELS or\n"
	"                        ~/.config/panic/models.json)\n"
	PROG_INPUT_USAGE
	"      --db PATH         state file (default $PANIC_DB)\n"
	"  -q, --quiet           less on stderr     -v, --verbose  more on stderr\n"
	"  -h, --help            this help          --version      the version\n"
	"\n"
	"Keys: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN), from\n"
	"the environment or the 0600 file ~/.config/panic/keys.\n"
	"Exit: 0 ok, 1 some input rejected or some output not archived, 2 usage,\n"
	"3 configuration or state error.\n";

enum { O_FROM = 256, O_TYPE, O_DIR, O_CONVERT, O_IMAGE, O_AUDIO, O_MAXBYTES, O_TIMEOUT,
       O_BASE, O_ENDPOINT, O_BUCKET, O_REGION, O_PREFIX, O_PUBLIC, O_CONFIG, O_MODELS };

static const struct option longopts[] = {
	{ "jobs", required_argument, 0, 'j' },
	{ "from", required_argument, 0, O_FROM },
	{ "type", required_argument, 0, O_TYPE },
	{ "dir", required_argument, 0, O_DIR },
	{ "convert", no_argument, 0, O_CONVERT },
	{ "image-format", required_argument, 0, O_IMAGE },
	{ "audio-format", required_argument, 0, O_AUDIO },
	{ "max-bytes", required_argument, 0, O_MAXBYTES },
	{ "timeout", required_argument, 0, O_TIMEOUT },
	{ "base-url", required_argument, 0, O_BASE },
	{ "endpoint", required_argument, 0, O_ENDPOINT },
	{ "bucket", required_argument, 0, O_BUCKET },
	{ "region", required_argument, 0, O_REGION },
	{ "prefix", required_argument, 0, O_PREFIX },
	{ "public-url", required_argument, 0, O_PUBLIC },
	{ "config", required_argument, 0, O_CONFIG },
	{ "models", required_argument, 0, O_MODELS },
	PROG_INPUT_OPTIONS,
	PROG_OPTIONS,
	{ 0, 0, 0, 0 },
};

/* A record between input and output. */
struct slot {
	jv rec;
	char *raw; /* the record's text as read, or NULL */
	size_t rawlen;
	long lineno;
	int archiving; /* else it passes through */
	struct archive_job job;
};

static struct {
	struct archive *arch;
	struct catalogue *cat;
	struct db *db;
	const char *from;
	enum media_kind type; /* --type, or MEDIA_UNKNOWN */
	struct slot *q;
	int qcap, qhead, qlen, jobs;
	int status;
} g = { .from = "output", .jobs = 4 };

/* The kind of output REC (borrowed) holds: MEDIA_IMAGE, MEDIA_AUDIO,
 * MEDIA_UNKNOWN (a URL: its bytes decide), or -1: not one to archive. */
static int output_kind(jv rec, const char *value)
{
	const char *state = json_str(rec, "state", NULL);
	if (state && strcmp(state, "completed"))
		return -1;
	const char *type = json_str(rec, "output_type", NULL);
	if (!type && g.cat) {
		const char *id = json_str(rec, "model", NULL);
		struct model *m = id ? catalogue_find(g.cat, id) : NULL;
		if (m)
			type = mtype_name(m->output);
	}
	if (type)
		return !strcmp(type, "image") ? MEDIA_IMAGE : !strcmp(type, "audio") ? MEDIA_AUDIO : -1;
	if (g.type != MEDIA_UNKNOWN)
		return g.type;
	return !strncmp(value, "http://", 7) || !strncmp(value, "https://", 8) ? MEDIA_UNKNOWN : -1;
}

/* A stored invocation's row follows its record: the output, and the next
 * invocation's input. */
static void rewrite(jv rec, const char *from, const char *to)
{
	const char *t = json_str(rec, "type", NULL), *run = json_str(rec, "run_id", NULL);
	jv seq = json_get(rec, "seq");
	if (t && !strcmp(t, "invocation") && run && jv_get_kind(seq) == JV_KIND_NUMBER &&
	    db_archive_rewrite(g.db, run, (long)jv_number_value(seq), from, to) < 0)
		pdie(PX_CONFIG, "state: %s", err_msg());
	jv_free(seq);
}

static void emit(struct slot *s)
{
	if (!s->archiving) {
		if (s->raw) {
			fwrite(s->raw, 1, s->rawlen, stdout);
			putchar('\n');
		} else {
			json_write(stdout, s->rec);
		}
	} else {
		struct archive_job *j = &s->job;
		int ok = jv_get_kind(j->error) == JV_KIND_NULL;
		jv info;
		if (ok) {
			info = jv_copy(j->result);
			rewrite(s->rec, json_str(info, "source", NULL), json_str(info, "url", NULL));
		} else {
			info = json_set(json_set(jv_object(), "source", json_get(s->rec, g.from)), "error",
			                jv_copy(j->error));
		}
		struct json_field f[] = {
			{ g.from, ok ? json_get(j->result, "url") : json_get(s->rec, g.from), NULL },
			{ "archive", info, NULL },
		};
		json_write_with(stdout, s->rec, s->raw, s->rawlen, f, 2);
		if (!ok) {
			g.status = PX_FAIL;
			if (prog_verbose >= 0)
				pwarn("stdin:%ld: %s: %s", s->lineno, json_str_or(s->rec, g.from, "?"),
				      json_str_or(j->error, "message", "failed"));
		} else if (prog_verbose > 0) {
			pwarn("stdin:%ld: %s -> %s", s->lineno, json_str_or(s->rec, g.from, "?"),
			      json_str_or(j->result, "url", "?"));
		}
		archive_job_clear(j);
	}
	jv_free(s->rec);
	free(s->raw);
	s->raw = NULL;
}

static void emit_ready(void)
{
	while (g.qlen) {
		struct slot *s = &g.q[g.qhead];
		if (s->archiving && !s->job.done)
			return;
		emit(s);
		g.qhead = (g.qhead + 1) % g.qcap;
		g.qlen--;
	}
}

static void on_record(struct loop *l, jv rec)
{
	size_t rawlen;
	const char *raw = nd_raw(l->in, &rawlen);
	struct slot *s = &g.q[(g.qhead + g.qlen) % g.qcap];
	const char *url = json_str(rec, g.from, NULL);
	int kind = url ? output_kind(rec, url) : -1;
	g.qlen++;
	s->rec = rec;
	s->lineno = nd_lineno(l->in);
	s->raw = raw ? malloc(rawlen) : NULL;
	s->rawlen = s->raw ? rawlen : 0;
	if (s->raw)
		memcpy(s->raw, raw, rawlen);
	s->archiving = kind >= 0;
	if (s->archiving)
		archive_start(g.arch, &s->job, url, (enum media_kind)kind);
	emit_ready();
}

static int on_room(struct loop *l)
{
	(void)l;
	return archive_inflight(g.arch) < g.jobs && g.qlen < g.qcap;
}

static int on_work(struct loop *l)
{
	emit_ready();
	return l->eof && !g.qlen ? LOOP_END : -1;
}

static int on_wait(struct loop *l, struct pollfd *p, int n, int ms)
{
	(void)l;
	return archive_wait(g.arch, p, n, ms);
}

/* A signal or a closed reader: stop; main() abandons what is in flight. */
static void on_idle(struct loop *l)
{
	g.status = prog_flush(g.status);
	prog_loop_stopping(l);
}

static void on_woke(struct loop *l)
{
	prog_loop_stopping(l);
}

/* A size with an optional K, M or G (powers of 1024). */
static size_t bytes(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	double mult = 1;
	if (*end == 'K' || *end == 'k')
		mult = 1024, end++;
	else if (*end == 'M' || *end == 'm')
		mult = 1024 * 1024, end++;
	else if (*end == 'G' || *end == 'g')
		mult = 1024.0 * 1024 * 1024, end++;
	if (end == s || *end || !(v * mult >= 1) || v * mult > 64.0 * 1024 * 1024 * 1024)
		pusage("--max-bytes: expected a size such as 100M, got '%s'", s);
	return (size_t)(v * mult);
}

int main(int argc, char **argv)
{
	prog_init("panic-archive");
	struct archive_opts o = { 0 };
	const char *config = NULL, *models = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "j:Rqvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': g.jobs = (int)prog_atol("-j", optarg, 1, 1024); break;
		case O_FROM: g.from = optarg; break;
		case O_TYPE:
			if (!strcmp(optarg, "image"))
				g.type = MEDIA_IMAGE;
			else if (!strcmp(optarg, "audio"))
				g.type = MEDIA_AUDIO;
			else
				pusage("--type: image or audio, got '%s'", optarg);
			break;
		case O_DIR: o.dir = optarg; break;
		case O_CONVERT:
			o.image_format = "webp";
			o.audio_format = "ogg";
			break;
		case O_IMAGE: o.image_format = optarg; break;
		case O_AUDIO: o.audio_format = optarg; break;
		case O_MAXBYTES: o.max_bytes = bytes(optarg); break;
		case O_TIMEOUT: o.timeout_ms = (int)prog_ms("--timeout", optarg, 86400, 1); break;
		case O_BASE: o.base_url = optarg; break;
		case O_ENDPOINT: o.s3.endpoint = optarg; break;
		case O_BUCKET: o.s3.bucket = optarg; break;
		case O_REGION: o.s3.region = optarg; break;
		case O_PREFIX: o.s3.prefix = optarg; break;
		case O_PUBLIC: o.s3.public_url = optarg; break;
		case O_CONFIG: config = optarg; break;
		case O_MODELS: models = optarg; break;
		default: prog_option(c, usage);
		}
	}
	if (optind < argc)
		pusage("unexpected argument '%s'", argv[optind]);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);

	jv doc;
	if (archive_settings(&o, config, &doc) < 0)
		pdie(PX_CONFIG, "%s", err_msg());
	if (catalogue_load(&g.cat, models) < 0)
		pdie(PX_CONFIG, "%s", err_msg());
	g.db = prog_state(DB_CREATE | DB_WRITE);
	if (archive_open(&g.arch, &o, g.db) < 0)
		pdie(PX_CONFIG, "%s", err_msg());
	g.qcap = g.jobs * 2 + 16;
	g.q = calloc((size_t)g.qcap, sizeof *g.q);
	struct nd_reader *r = prog_reader(0);
	if (!g.q)
		pdie(PX_FAIL, "out of memory");

	struct loop l = { .in = r, .record = on_record, .bad = prog_loop_bad, .room = on_room,
		          .work = on_work, .wait = on_wait, .idle = on_idle, .woke = on_woke };
	prog_loop_watch(&l);
	if (loop_run(&l) < 0)
		pdie(PX_FAIL, "stdin: %s", err_msg());
	if (l.nbad)
		g.status = PX_FAIL;
	if (l.stop) { /* a signal or a closed reader: what is in flight is abandoned */
		for (int i = 0; i < g.qlen; i++) {
			struct slot *s = &g.q[(g.qhead + i) % g.qcap];
			if (s->archiving && !s->job.done)
				archive_cancel(g.arch, &s->job);
			if (s->archiving)
				archive_job_clear(&s->job);
			jv_free(s->rec);
			free(s->raw);
		}
		g.qlen = 0;
	}
	emit_ready();

	nd_free(r);
	archive_close(g.arch);
	free(g.q);
	catalogue_free(g.cat);
	jv_free(doc);
	if (db_close(g.db) < 0)
		pdie(PX_CONFIG, "state: %s", err_msg());
	return prog_finish(g.status);
}

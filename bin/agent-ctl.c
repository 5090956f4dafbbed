/* agent-ctl: the agents table (DESIGN.md §6, Arboretum's agents).
 *
 *   add NAME, set NAME       create or change an agent from options
 *   show NAME, list          print agents (NDJSON piped, a table on a terminal)
 *   activate, deactivate     set the status
 *   remove NAME...           delete
 *   import [FILE], export    NDJSON, one agent a line, round-tripping exactly
 *   edit NAME                in $VISUAL or $EDITOR, checked on save (crontab -e)
 *   status [NAME...]         what runs: state, pid, next fire, last run, last error
 *   next CRON                the next fire times of a cron expression
 *   events [NAME]            the agents' event log
 *
 * Every field is checked on the way in (lib/agent/spec.h), with an error
 * naming the field and the rule, exit 3. Every change publishes
 * agents:changed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/admin.h"
#include "agent/cron.h"
#include "agent/run.h"
#include "agent/spec.h"
#include "agent/tz.h"
#include "agent/world.h"
#include "base/err.h"
#include "base/proc.h"
#include "base/timeutil.h"
#include "bus/bus.h"
#include "cli/prog.h"
#include "json/json.h"
#include "json/ndjson.h"
#include "model/catalogue.h"
#include "state/agents.h"
#include "state/db.h"

static const char usage[] =
	"usage: agent-ctl [OPTION]... COMMAND [ARG]...\n"
	"Manage agents: rows of the agents table that agent-run runs.\n"
	"\n"
	"Commands:\n"
	"  add NAME [FIELD]...     a new agent (inactive unless --status active)\n"
	"  set NAME [FIELD]...     change an agent's fields\n"
	"  show NAME               the agent\n"
	"  list                    every agent\n"
	"  activate NAME...        set the status to active (agent-run starts it)\n"
	"  deactivate NAME...      set the status to inactive (agent-run stops it)\n"
	"  remove NAME...          delete agents\n"
	"  import [FILE]           agents from NDJSON, created or replaced by name\n"
	"  export [NAME]...        agents as NDJSON, one a line\n"
	"  edit NAME               edit in $VISUAL or $EDITOR, checked on save\n"
	"  status [NAME]...        state, pid, next fire, last run, last error\n"
	"  next CRON               the next fire times of CRON (\"0 9 * * mon-fri\")\n"
	"  events [NAME]           the event log, oldest first\n"
	"\n"
	"Fields (add, set):\n"
	"      --status S          active, inactive, error or disabled_flapping\n"
	"      --model ID          llm_config.model, a model of the catalogue\n"
	"      --key-env VAR       llm_config.api_key_env_var: the variable holding\n"
	"                          the key (never the key itself)\n"
	"      --base-url URL      llm_config.base_url\n"
	"      --system TEXT       llm_config.base_prompt_override\n"
	"  -p, --prompt TASK=TEXT  the prompt template of a task type (TASK= removes)\n"
	"  -a, --ability NAME      an ability (repeat; replaces the list)\n"
	"  -r, --responsibility R  cron:EXPR, every:DURATION, event:TOPIC,\n"
	"                          watch:/DIR[:GLOB], stdin, or a JSON object\n"
	"                          (repeat; replaces the list)\n"
	"      --retry POLICY      fixed:MAX:DELAY_MS,\n"
	"                          exponential_backoff:MAX:BASE_MS:MAX_MS, or JSON\n"
	"  -j, --concurrency N     jobs the agent runs at once (1-256), or 'default'\n"
	"                          (agent-run's own default)\n"
	"      --fields JSON       any fields, as a JSON object\n"
	"\n"
	"Options:\n"
	"      --from TIME         next: start after TIME (RFC 3339; default now)\n"
	"      --tz ZONE           next: the time zone (default $TZ, the local zone)\n"
	"  -n, --count N           next: how many (default 5); events: the last N\n"
	"                          (default 20, 0 for all)\n"
	"      --utc               next: print UTC times\n"
	"      --json, --table     list, show, status, events: force the format\n"
	"      --abilities DIR     also allow abilities from DIR (repeat)\n"
	"      --models FILE       user catalogue (default $PANIC_MODELS or\n"
	"                          ~/.config/panic/models.json)\n"
	"      --db PATH           state file (default $PANIC_DB)\n"
	"      --bus DIR           the bus (default $PANIC_BUS)\n"
	"  -q, --quiet             less on stderr  -v, --verbose  more on stderr\n"
	"  -h, --help              this help       --version      the version\n"
	"\n"
	"Exit: 0 ok, 1 some input rejected (import) or the editor failed, 2 usage,\n"
	"3 an invalid field, no such agent, or a state error.\n";

enum {
	O_STATUS = 256, O_MODEL, O_KEY_ENV, O_BASE_URL, O_SYSTEM, O_RETRY, O_FIELDS, O_FROM,
	O_TZ, O_UTC, O_JSON, O_TABLE, O_ABILITIES, O_MODELS,
};

static const struct option longopts[] = {
	{ "status", required_argument, 0, O_STATUS },
	{ "model", required_argument, 0, O_MODEL },
	{ "key-env", required_argument, 0, O_KEY_ENV },
	{ "base-url", required_argument, 0, O_BASE_URL },
	{ "system", required_argument, 0, O_SYSTEM },
	{ "prompt", required_argument, 0, 'p' },
	{ "ability", required_argument, 0, 'a' },
	{ "responsibility", required_argument, 0, 'r' },
	{ "retry", required_argument, 0, O_RETRY },
	{ "concurrency", required_argument, 0, 'j' },
	{ "fields", required_argument, 0, O_FIELDS },
	{ "from", required_argument, 0, O_FROM },
	{ "tz", required_argument, 0, O_TZ },
	{ "count", required_argument, 0, 'n' },
	{ "utc", no_argument, 0, O_UTC },
	{ "json", no_argument, 0, O_JSON },
	{ "table", no_argument, 0, O_TABLE },
	{ "abilities", required_argument, 0, O_ABILITIES },
	{ "models", required_argument, 0, O_MODELS },
	PROG_OPTIONS,
	PROG_BUS_OPTION,
	{ 0, 0, 0, 0 },
};

static struct {
	jv fields;  /* what the field options set, as an object */
	jv prompts; /* --prompt TASK=TEXT, merged into prompts ("" removes) */
	jv abilities, resps;
	const char *from, *tz, *models;
	long count;
	int utc, table;
	char *dirs[8];
	int ndirs;
} opt = { .count = -1 };

static struct db *db;
static struct bus *bus;
static struct catalogue *cat;
static struct agent_world world;

/* ---- options ---- */

static void set_field(const char *key, jv v)
{
	opt.fields = json_set(opt.fields, key, v);
}

static void set_llm(const char *key, const char *v)
{
	jv llm = json_get(opt.fields, "llm_config");
	if (!jv_is_valid(llm))
		llm = jv_object();
	set_field("llm_config", json_set(llm, key, jv_string(v)));
}

/* --retry fixed:3:5000 | exponential_backoff:5:1000:60000 | JSON */
static jv retry_option(const char *s)
{
	if (*s == '{') {
		jv v = json_parse(s, strlen(s));
		if (!jv_is_valid(v)) {
			jv_free(v);
			pusage("--retry: not JSON: %s", s);
		}
		return v;
	}
	long a, b, c;
	char type[32];
	int n = sscanf(s, "%31[a-z_]:%ld:%ld:%ld", type, &a, &b, &c);
	jv r = json_set(jv_object(), "type", jv_string(type));
	if (n == 3 && !strcmp(type, "fixed"))
		return json_set(json_set(r, "max_retries", jv_number(a)), "delay_ms", jv_number(b));
	if (n == 4 && !strcmp(type, "exponential_backoff"))
		return json_set(json_set(json_set(r, "max_retries", jv_number(a)), "base_delay_ms",
		                         jv_number(b)),
		                "max_delay_ms", jv_number(c));
	jv_free(r);
	jv_free(opt.fields);
	pusage("--retry: '%s' is not fixed:MAX:DELAY_MS, exponential_backoff:MAX:BASE_MS:MAX_MS "
	       "or a JSON object", s);
}

static void options(int argc, char **argv)
{
	int c;
	opt.fields = jv_object();
	opt.prompts = jv_null();
	opt.abilities = opt.resps = jv_null();
	while ((c = getopt_long(argc, argv, "p:a:r:n:j:qvh", longopts, NULL)) != -1) {
		switch (c) {
		case O_STATUS: set_field("status", jv_string(optarg)); break;
		case O_MODEL: set_llm("model", optarg); break;
		case O_KEY_ENV: set_llm("api_key_env_var", optarg); break;
		case O_BASE_URL: set_llm("base_url", optarg); break;
		case O_SYSTEM: set_llm("base_prompt_override", optarg); break;
		case 'p': {
			const char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg)
				pusage("--prompt: expected TASK=TEMPLATE, got '%s'", optarg);
			if (jv_get_kind(opt.prompts) == JV_KIND_NULL)
				opt.prompts = jv_object();
			opt.prompts = jv_object_set(opt.prompts, jv_string_sized(optarg, (int)(eq - optarg)),
			                            jv_string(eq + 1));
			break;
		}
		case 'a':
			if (jv_get_kind(opt.abilities) == JV_KIND_NULL)
				opt.abilities = jv_array();
			opt.abilities = jv_array_append(opt.abilities, jv_string(optarg));
			break;
		case 'r': {
			jv v = optarg[0] == '{' ? json_parse(optarg, strlen(optarg)) : jv_string(optarg);
			if (!jv_is_valid(v)) {
				jv_free(v);
				pusage("--responsibility: not JSON: %s", optarg);
			}
			if (jv_get_kind(opt.resps) == JV_KIND_NULL)
				opt.resps = jv_array();
			opt.resps = jv_array_append(opt.resps, v);
			break;
		}
		case O_RETRY: set_field("retry_policy", retry_option(optarg)); break;
		case 'j': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (!strcmp(optarg, "default"))
				set_field("concurrency", jv_null());
			else if (end != optarg && !*end)
				set_field("concurrency", jv_number((double)n));
			else
				pusage("--concurrency: '%s' is not a number (or 'default')", optarg);
			break;
		}
		case O_FIELDS: {
			jv v = json_parse(optarg, strlen(optarg));
			if (jv_get_kind(v) != JV_KIND_OBJECT) {
				jv_free(v);
				pusage("--fields: not a JSON object: %s", optarg);
			}
			for (int i = jv_object_iter(v); jv_object_iter_valid(v, i);
			     i = jv_object_iter_next(v, i))
				opt.fields = jv_object_set(opt.fields, jv_object_iter_key(v, i),
				                           jv_object_iter_value(v, i));
			jv_free(v);
			break;
		}
		case O_FROM: opt.from = optarg; break;
		case O_TZ: opt.tz = optarg; break;
		case 'n': opt.count = prog_atol("--count", optarg, 0, 100000); break;
		case O_UTC: opt.utc = 1; break;
		case O_JSON: opt.table = 0; break;
		case O_TABLE: opt.table = 1; break;
		case O_ABILITIES:
			if (opt.ndirs >= 6)
				pusage("--abilities: at most 6 directories");
			opt.dirs[opt.ndirs++] = optarg;
			break;
		case O_MODELS: opt.models = optarg; break;
		default: prog_option(c, usage);
		}
	}
}

/* ---- the table ---- */

/* The agent NAME, as show prints it. */
static jv get(const char *name)
{
	jv o = agent_get(db, name);
	if (!jv_is_valid(o))
		pdie(PX_CONFIG, "state: %s", err_msg());
	if (jv_get_kind(o) == JV_KIND_NULL)
		pdie(PX_CONFIG, "no agent '%s' (see agent-ctl list)", name);
	return o;
}

static void open_world(void)
{
	if (!cat && catalogue_load(&cat, opt.models) < 0)
		pdie(PX_CONFIG, "%s", err_msg());
	if (!world.lk.ability && agent_world_init(&world, opt.dirs, opt.ndirs, cat) < 0)
		pdie(PX_CONFIG, "%s", err_msg());
}

/* Checks IN (borrowed) into A, or returns -1 with err_msg(). */
static int check(jv in, struct agent *a)
{
	open_world();
	return agent_check(in, &world.lk, a);
}

static void publish(const char *event, jv agent)
{
	if (bus && agent_publish_changed(bus, db, event, agent) < 0 && prog_verbose > 0)
		pwarn("bus: %s", err_msg());
}

/* ---- printing ---- */

static void put_safe(const char *s)
{
	prog_put_safe(stdout, s, strlen(s), 0);
}

static int print_agent(jv o, void *ctx)
{
	int *first = ctx;
	if (!opt.table) {
		json_write(stdout, o);
	} else {
		if (first && *first)
			printf("%-24s %-18s %9s %16s  %s\n", "NAME", "STATUS", "ABILITIES",
			       "RESPONSIBILITIES", "LAST ERROR");
		if (first)
			*first = 0;
		jv ab = json_get(o, "abilities"), rs = json_get(o, "responsibilities");
		int nab = jv_get_kind(ab) == JV_KIND_ARRAY ? jv_array_length(jv_copy(ab)) : -1;
		int nrs = jv_get_kind(rs) == JV_KIND_ARRAY ? jv_array_length(jv_copy(rs)) : -1;
		printf("%-24s %-18s %9d %16d  ", json_str_or(o, "name", "?"),
		       json_str_or(o, "status", "?"), nab, nrs);
		put_safe(json_str_or(o, "last_error", ""));
		putchar('\n');
		jv_free(ab);
		jv_free(rs);
	}
	jv_free(o);
	return 0;
}

static void show(jv o);
static void show_one(const char *name)
{
	jv o = get(name);
	show(o);
	jv_free(o);
}

static void show(jv o)
{
	if (!opt.table) {
		json_write(stdout, o);
		return;
	}
	for (int i = jv_object_iter(o); jv_object_iter_valid(o, i); i = jv_object_iter_next(o, i)) {
		jv k = jv_object_iter_key(o, i), v = jv_object_iter_value(o, i);
		printf("%-17s ", jv_string_value(k));
		if (jv_get_kind(v) == JV_KIND_STRING) {
			put_safe(jv_string_value(v));
		} else {
			size_t n;
			char *t = json_dump(v, &n);
			if (t)
				prog_put_safe(stdout, t, n, 0);
			free(t);
		}
		putchar('\n');
		jv_free(k);
		jv_free(v);
	}
}

/* ---- add, set, import ---- */

/* IN (consumed) with the field options applied. */
static jv apply_options(jv in)
{
	jv f = jv_copy(opt.fields);
	for (int i = jv_object_iter(f); jv_object_iter_valid(f, i); i = jv_object_iter_next(f, i)) {
		jv k = jv_object_iter_key(f, i), v = jv_object_iter_value(f, i);
		if (!strcmp(jv_string_value(k), "llm_config") && jv_get_kind(v) == JV_KIND_OBJECT) {
			jv old = json_get(in, "llm_config");
			if (jv_get_kind(old) == JV_KIND_OBJECT)
				v = jv_object_merge(old, v);
			else
				jv_free(old);
		}
		in = jv_object_set(in, k, v);
	}
	jv_free(f);
	if (jv_get_kind(opt.prompts) == JV_KIND_OBJECT) {
		jv p = json_get(in, "prompts");
		if (jv_get_kind(p) != JV_KIND_OBJECT) {
			jv_free(p);
			p = jv_object();
		}
		for (int i = jv_object_iter(opt.prompts); jv_object_iter_valid(opt.prompts, i);
		     i = jv_object_iter_next(opt.prompts, i)) {
			jv k = jv_object_iter_key(opt.prompts, i), v = jv_object_iter_value(opt.prompts, i);
			if (!jv_string_length_bytes(jv_copy(v))) {
				jv_free(v);
				p = jv_object_delete(p, k);
			} else {
				p = jv_object_set(p, k, v);
			}
		}
		in = json_set(in, "prompts", p);
	}
	if (jv_is_valid(opt.abilities) && jv_get_kind(opt.abilities) != JV_KIND_NULL)
		in = json_set(in, "abilities", jv_copy(opt.abilities));
	if (jv_is_valid(opt.resps) && jv_get_kind(opt.resps) != JV_KIND_NULL)
		in = json_set(in, "responsibilities", jv_copy(opt.resps));
	return in;
}

/* The check of IN failed: free what is held and exit 3 saying why
 * (with PREFIX, if not NULL). */
static void __attribute__((noreturn)) check_failed(jv in, struct agent *a, const char *prefix)
{
	char why[1200];
	snprintf(why, sizeof why, "%s%s%s", prefix ? prefix : "", prefix ? ": " : "", err_msg());
	jv_free(in);
	agent_free(a);
	pdie(PX_CONFIG, "%s", why);
}

/* Stores the checked agent A: inserts it, or updates the row with A's id.
 * Returns the stored row as an object, or jv_invalid() with err_msg(). */
static jv store(struct agent *a, int create)
{
	jv o = agent_save(db, NULL, &world.lk, a->row, create, NULL);
	if (jv_is_valid(o))
		publish(create ? "created" : "updated", o);
	return o;
}

static int add(const char *name)
{
	jv in = apply_options(json_set(jv_object(), "name", jv_string(name)));
	struct agent a;
	if (check(in, &a) < 0)
		check_failed(in, &a, NULL);
	jv_free(in);
	jv o = store(&a, 1);
	agent_free(&a);
	if (!jv_is_valid(o))
		check_failed(o, &a, NULL);
	show(o);
	jv_free(o);
	return PX_OK;
}

static int set(const char *name)
{
	jv in = apply_options(get(name));
	in = jv_object_delete(in, jv_string("updated_at"));
	struct agent a;
	if (check(in, &a) < 0)
		check_failed(in, &a, NULL);
	jv_free(in);
	jv o = store(&a, 0);
	agent_free(&a);
	if (!jv_is_valid(o))
		check_failed(o, &a, NULL);
	show(o);
	jv_free(o);
	return PX_OK;
}

static int set_status(int argc, char **argv, const char *status)
{
	for (int i = 0; i < argc; i++) {
		jv cur = get(argv[i]);
		jv in = agent_with_status(cur, status);
		jv_free(cur);
		struct agent a;
		if (check(in, &a) < 0)
			check_failed(in, &a, argv[i]);
		jv_free(in);
		jv o = store(&a, 0);
		agent_free(&a);
		if (!jv_is_valid(o))
			pdie(PX_CONFIG, "%s", err_msg());
		jv_free(o);
	}
	return PX_OK;
}

static int remove_agents(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		jv o = get(argv[i]);
		if (db_agent_delete(db, argv[i]) < 0)
			pdie(PX_CONFIG, "%s", err_msg());
		publish("deleted", o);
		jv_free(o);
	}
	return PX_OK;
}

/* One agent of an import: created, or the agent of that name replaced. */
static int import_one(jv in, char *why, size_t size)
{
	struct agent a;
	if (check(in, &a) < 0) {
		snprintf(why, size, "%s", err_msg());
		agent_free(&a);
		return -1;
	}
	jv old = db_agent_get(db, a.name, 0);
	int create = jv_get_kind(old) == JV_KIND_NULL;
	if (!create) {
		const char *id = json_str(old, "id", NULL);
		if (*a.id && id && strcmp(a.id, id)) {
			snprintf(why, size, "agent '%s' exists with another id (%s): remove it first",
			         a.name, id);
			jv_free(old);
			agent_free(&a);
			return -1;
		}
		if (id)
			snprintf(a.id, sizeof a.id, "%s", id);
		a.row = json_set(a.row, "id", jv_string(a.id));
	}
	jv_free(old);
	jv o = store(&a, create);
	agent_free(&a);
	if (!jv_is_valid(o)) {
		snprintf(why, size, "%s", err_msg());
		return -1;
	}
	jv_free(o);
	return 0;
}

static int import(const char *file)
{
	int fd = 0;
	if (file && strcmp(file, "-") && (fd = open(file, O_RDONLY | O_CLOEXEC)) < 0)
		pdie(PX_CONFIG, "%s: %s", file, strerror(errno));
	struct nd_reader *r = nd_new(fd, 0, ND_JSON);
	if (!r)
		pdie(PX_FAIL, "out of memory");
	int status = PX_OK, rc;
	jv rec;
	const char *where = file && strcmp(file, "-") ? file : "stdin";
	while ((rc = nd_next(r, &rec, 1)) != ND_EOF) {
		char why[1024];
		if (rc == ND_ERROR)
			pdie(PX_FAIL, "%s: %s", where, err_msg());
		if (rc == ND_BAD) {
			pwarn("%s:%ld: %s", where, nd_lineno(r), err_msg());
			status = PX_FAIL;
			continue;
		}
		size_t rawlen;
		if (!nd_raw(r, &rawlen)) {
			pwarn("%s:%ld: not a JSON object (an agent)", where, nd_lineno(r));
			status = PX_FAIL;
		} else if (import_one(rec, why, sizeof why) < 0) {
			pwarn("%s:%ld: %s", where, nd_lineno(r), why);
			status = PX_FAIL;
		}
		jv_free(rec);
	}
	nd_free(r);
	if (fd > 0)
		close(fd);
	return status;
}

static int export(int argc, char **argv)
{
	int table = opt.table;
	opt.table = 0;
	if (!argc && agent_list(db, print_agent, NULL) < 0)
		pdie(PX_CONFIG, "state: %s", err_msg());
	for (int i = 0; i < argc; i++)
		print_agent(get(argv[i]), NULL);
	opt.table = table;
	return PX_OK;
}

/* ---- edit ---- */

/* Runs $VISUAL or $EDITOR (split at blanks, no shell) on FILE. */
static int run_editor(const char *file)
{
	const char *ed = getenv("VISUAL");
	if (!ed || !*ed)
		ed = getenv("EDITOR");
	if (!ed || !*ed)
		ed = "vi";
	char *copy = strdup(ed), *argv[34];
	int n = 0;
	for (char *p = strtok(copy, " \t"); p && n < 32; p = strtok(NULL, " \t"))
		argv[n++] = p;
	argv[n++] = (char *)file;
	argv[n] = NULL;
	struct proc p;
	int st = 0, rc = proc_run(&p, argv, 1);
	if (rc == 0)
		rc = proc_reap(&p, &st, 1) == 1 ? 0 : -1;
	if (rc < 0)
		pwarn("editor '%s': %s", ed, err_msg());
	else if (!WIFEXITED(st) || WEXITSTATUS(st))
		rc = -1, pwarn("editor '%s' failed (status %d): nothing changed", ed,
		               WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	free(copy);
	return rc;
}

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t cap = 0;
	*n = 0;
	for (;;) {
		if (cap - *n < 4096 && !(buf = realloc(buf, cap = cap * 2 + 8192)))
			break;
		size_t k = fread(buf + *n, 1, cap - *n - 1, f);
		*n += k;
		if (!k)
			break;
	}
	fclose(f);
	if (buf)
		buf[*n] = 0;
	return buf;
}

/* TEXT without its lines that start with "//". */
static char *strip_comments(const char *text)
{
	char *out = malloc(strlen(text) + 1), *o = out;
	for (const char *p = text; out && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
		const char *q = p;
		while (q < p + n && (*q == ' ' || *q == '\t'))
			q++;
		if (strncmp(q, "//", 2)) {
			memcpy(o, p, n);
			o += n;
		}
		p += n;
	}
	if (out)
		*o = 0;
	return out;
}

static int ask_again(void)
{
	fprintf(stderr, "%s: edit again? [y/n] ", prog_name);
	fflush(stderr);
	char line[64];
	if (!fgets(line, sizeof line, stdin)) {
		fputc('\n', stderr); /* no answer: what follows on a line of its own */
		return 0;
	}
	return line[0] == 'y' || line[0] == 'Y';
}

static int edit(const char *name)
{
	jv o = get(name);
	char id[ID_LEN + 1];
	snprintf(id, sizeof id, "%s", json_str_or(o, "id", ""));
	jv e = jv_object();
	static const char *const editable[] = { "name", "status", "llm_config", "prompts",
		                                "abilities", "responsibilities", "retry_policy",
		                                NULL };
	for (int i = 0; editable[i]; i++)
		e = json_set(e, editable[i], json_get(o, editable[i]));
	jv pretty = jv_dump_string(jv_copy(e), JV_PRINT_INDENT_FLAGS(2));
	char *header = NULL, *text = NULL;
	if (asprintf(&header, "// agent-ctl edit %s: save and quit to apply; lines starting with"
	             " // are ignored.\n// id %s, inserted %s, updated %s\n// last_error: %s\n",
	             name, id, json_str_or(o, "inserted_at", "?"), json_str_or(o, "updated_at", "?"),
	             json_str_or(o, "last_error", "none")) < 0 ||
	    asprintf(&text, "%s%s\n", header, jv_string_value(pretty)) < 0)
		pdie(PX_FAIL, "out of memory");
	jv_free(pretty);
	const char *tmpdir = getenv("TMPDIR");
	char path[4096];
	snprintf(path, sizeof path, "%s/agent-ctl.XXXXXX.json", tmpdir && *tmpdir ? tmpdir : "/tmp");
	int fd = mkstemps(path, 5);
	if (fd < 0)
		pdie(PX_FAIL, "%s: %s", path, strerror(errno));
	close(fd);
	int status = PX_FAIL;
	for (;;) {
		FILE *f = fopen(path, "we");
		if (!f || fputs(text, f) == EOF || fclose(f) != 0) {
			pwarn("%s: %s", path, strerror(errno));
			break;
		}
		if (run_editor(path) < 0)
			break;
		size_t n;
		char *got = slurp(path, &n);
		if (!got) {
			pwarn("%s: %s", path, strerror(errno));
			break;
		}
		if (!strcmp(got, text)) {
			free(got);
			if (prog_verbose >= 0)
				pwarn("no changes made to agent '%s'", name);
			status = PX_OK;
			break;
		}
		char *json = strip_comments(got);
		jv in = json ? json_parse(json, strlen(json)) : jv_invalid();
		free(json);
		char why[1200] = "";
		struct agent a;
		if (!jv_is_valid(in)) {
			char t[300];
			json_error_text(in, t, sizeof t);
			snprintf(why, sizeof why, "not JSON: %s", t);
		} else {
			if (jv_get_kind(in) == JV_KIND_OBJECT) {
				in = json_set(in, "id", jv_string(id));
				in = json_set(in, "last_error", json_get(o, "last_error"));
				in = json_set(in, "inserted_at", json_get(o, "inserted_at"));
			}
			if (check(in, &a) < 0) {
				snprintf(why, sizeof why, "%s", err_msg());
				agent_free(&a);
			} else {
				jv stored = store(&a, 0);
				agent_free(&a);
				if (!jv_is_valid(stored))
					snprintf(why, sizeof why, "%s", err_msg());
				jv_free(stored);
			}
			jv_free(in);
		}
		if (!*why) {
			free(got);
			if (prog_verbose > 0)
				pwarn("agent '%s' updated", name);
			status = PX_OK;
			break;
		}
		pwarn("%s", why);
		if (!ask_again()) {
			free(got);
			pwarn("edit of agent '%s' discarded", name);
			status = PX_CONFIG;
			break;
		}
		/* Again, with the error on top and the user's text as it was. */
		char *body = strip_comments(got);
		free(got);
		free(text);
		for (char *p = why; *p; p++)
			if (*p == '\n')
				*p = ' ';
		if (!body || asprintf(&text, "%s// error: %s\n%s", header, why, body) < 0)
			pdie(PX_FAIL, "out of memory");
		free(body);
	}
	unlink(path);
	free(text);
	free(header);
	jv_free(e);
	jv_free(o);
	return status;
}

/* ---- status, next, events ---- */

static int64_t now_ms(void)
{
	int64_t t;
	const char *clock = getenv("PANIC_CLOCK");
	if (clock && *clock) {
		if (agent_clock_read(clock, &t) < 0)
			pdie(PX_CONFIG, "PANIC_CLOCK: %s", err_msg());
		return t;
	}
	return time_now_ms();
}

static int next(const char *expr)
{
	if (!strncmp(expr, "cron:", 5))
		expr += 5;
	struct cron c;
	if (cron_parse(&c, expr) < 0)
		pdie(PX_CONFIG, "cron '%s': %s", expr, err_msg());
	if (c.flags & CRON_REBOOT) {
		if (prog_verbose >= 0)
			pwarn("@reboot fires once per boot, when the agent starts");
		return PX_OK;
	}
	struct tz z;
	if (opt.tz && !*opt.tz)
		pusage("--tz: empty");
	if (tz_load(&z, opt.tz) < 0)
		pdie(PX_CONFIG, "%s", err_msg());
	int64_t from;
	if (opt.from) {
		if (tz_parse_time(opt.from, &from) < 0)
			pusage("--from: %s", err_msg());
	} else {
		from = now_ms();
	}
	int64_t t = from >= 0 ? from / 1000 : (from - 999) / 1000;
	long count = opt.count < 0 ? 5 : opt.count;
	for (long i = 0; i < count; i++) {
		t = cron_next(&c, &z, t);
		if (t < 0)
			break;
		char buf[40];
		puts(tz_format(t, opt.utc ? 0 : tz_offset(&z, t), buf));
	}
	tz_free(&z);
	return PX_OK;
}

static int print_status(jv row, void *ctx)
{
	int *first = ctx;
	jv s = agent_status(db, row);
	jv_free(row);
	if (!opt.table) {
		json_write(stdout, s);
	} else {
		if (*first)
			printf("%-20s %-18s %-9s %7s %-9s %-24s %-24s %s\n", "NAME", "STATUS", "STATE",
			       "PID", "JOBS", "NEXT FIRE", "LAST RUN", "LAST ERROR");
		*first = 0;
		jv pid = json_get(s, "pid");
		char p[24] = "-";
		if (jv_get_kind(pid) == JV_KIND_NUMBER)
			snprintf(p, sizeof p, "%.0f", jv_number_value(pid));
		jv_free(pid);
		/* JOBS: running+queued */
		jv run = json_get(s, "running"), q = json_get(s, "queued");
		char jobs[32] = "-";
		if (jv_get_kind(run) == JV_KIND_NUMBER && jv_get_kind(q) == JV_KIND_NUMBER)
			snprintf(jobs, sizeof jobs, "%.0f+%.0f", jv_number_value(run), jv_number_value(q));
		jv_free(run);
		jv_free(q);
		printf("%-20s %-18s %-9s %7s %-9s %-24s %-24s ", json_str_or(s, "name", "?"),
		       json_str_or(s, "status", "?"), json_str_or(s, "state", "?"), p, jobs,
		       json_str_or(s, "next_fire", "-"), json_str_or(s, "last_run", "-"));
		put_safe(json_str_or(s, "last_error", ""));
		putchar('\n');
	}
	jv_free(s);
	return 0;
}

static int agents_status(int argc, char **argv)
{
	int first = 1;
	if (!argc && agent_list(db, print_status, &first) < 0)
		pdie(PX_CONFIG, "state: %s", err_msg());
	for (int i = 0; i < argc; i++)
		print_status(get(argv[i]), &first);
	return PX_OK;
}

static int events(const char *name)
{
	char id[ID_LEN + 1] = "";
	if (name) {
		jv row = get(name);
		snprintf(id, sizeof id, "%s", json_str_or(row, "id", ""));
		jv_free(row);
	}
	jv all = db_agent_events(db, name ? id : NULL, NULL, opt.count < 0 ? 20 : opt.count);
	if (!jv_is_valid(all))
		pdie(PX_CONFIG, "state: %s", err_msg());
	for (int i = 0; i < jv_array_length(jv_copy(all)); i++) {
		jv ev = jv_array_get(jv_copy(all), i);
		if (!opt.table) {
			json_write(stdout, ev);
		} else {
			printf("%-24s %-20s %-10s ", json_str_or(ev, "at", ""), json_str_or(ev, "agent", ""),
			       json_str_or(ev, "event", ""));
			put_safe(json_str_or(ev, "responsibility", ""));
			jv err = json_get(ev, "error");
			const char *msg = json_str(err, "message", NULL);
			if (msg) {
				fputs("  ", stdout);
				put_safe(msg);
			}
			jv_free(err);
			putchar('\n');
		}
		jv_free(ev);
	}
	jv_free(all);
	return PX_OK;
}

int main(int argc, char **argv)
{
	prog_init("agent-ctl");
	opt.table = isatty(1);
	options(argc, argv);
	if (optind >= argc)
		pusage("no command (add, set, show, list, activate, deactivate, remove, import, "
		       "export, edit, status, next or events)");
	const char *cmd = argv[optind++];
	int n = argc - optind;
	char **args = argv + optind;
	static const struct {
		const char *name;
		int min, max; /* arguments */
	} cmds[] = {
		{ "add", 1, 1 }, { "set", 1, 1 }, { "show", 1, 1 }, { "list", 0, 0 },
		{ "activate", 1, 1000 }, { "deactivate", 1, 1000 }, { "remove", 1, 1000 },
		{ "import", 0, 1 }, { "export", 0, 1000 }, { "edit", 1, 1 }, { "status", 0, 1000 },
		{ "next", 1, 1 }, { "events", 0, 1 },
	};
	int k = -1;
	for (int i = 0; i < (int)(sizeof cmds / sizeof *cmds); i++)
		if (!strcmp(cmd, cmds[i].name))
			k = i;
	if (k < 0)
		pusage("unknown command '%s'", cmd);
	if (n < cmds[k].min || n > cmds[k].max)
		pusage("%s takes %s", cmd,
		       cmds[k].max == 0 ? "no arguments"
		       : cmds[k].min == cmds[k].max ? (!strcmp(cmd, "next") ? "one cron expression"
		                                                           : "one agent name")
		       : cmds[k].min ? "agent names" : cmds[k].max == 1 ? "at most one argument"
		                                                        : "agent names, or none");
	int fields = jv_object_length(jv_copy(opt.fields)) || jv_get_kind(opt.prompts) != JV_KIND_NULL ||
	             jv_get_kind(opt.abilities) != JV_KIND_NULL || jv_get_kind(opt.resps) != JV_KIND_NULL;
	if (fields && strcmp(cmd, "add") && strcmp(cmd, "set"))
		pusage("field options are for add and set");
	if (!strcmp(cmd, "next"))
		return prog_finish(next(args[0]));

	int status = PX_OK;
	int writes = !strcmp(cmd, "add") || !strcmp(cmd, "set") || !strcmp(cmd, "activate") ||
	             !strcmp(cmd, "deactivate") || !strcmp(cmd, "remove") ||
	             !strcmp(cmd, "import") || !strcmp(cmd, "edit");
	db = prog_state(writes ? DB_CREATE | DB_WRITE : DB_CREATE);
	if (writes)
		bus = prog_bus_open("agents:changed is not published");
	if (!strcmp(cmd, "add"))
		status = add(args[0]);
	else if (!strcmp(cmd, "set"))
		status = set(args[0]);
	else if (!strcmp(cmd, "show"))
		show_one(args[0]);
	else if (!strcmp(cmd, "list") && agent_list(db, print_agent, &(int){ 1 }) < 0)
		pdie(PX_CONFIG, "state: %s", err_msg());
	else if (!strcmp(cmd, "activate"))
		status = set_status(n, args, "active");
	else if (!strcmp(cmd, "deactivate"))
		status = set_status(n, args, "inactive");
	else if (!strcmp(cmd, "remove"))
		status = remove_agents(n, args);
	else if (!strcmp(cmd, "import"))
		status = import(n ? args[0] : NULL);
	else if (!strcmp(cmd, "export"))
		status = export(n, args);
	else if (!strcmp(cmd, "edit"))
		status = edit(args[0]);
	else if (!strcmp(cmd, "status"))
		status = agents_status(n, args);
	else if (!strcmp(cmd, "events"))
		status = events(n ? args[0] : NULL);
	bus_close(bus);
	if (cat)
		catalogue_free(cat);
	agent_world_free(&world);
	jv_free(opt.fields);
	jv_free(opt.prompts);
	jv_free(opt.abilities);
	jv_free(opt.resps);
	if (db_close(db) < 0)
		pdie(PX_CONFIG, "state: %s", err_msg());
	return prog_finish(status);
}

/* panic-log: the call log (DESIGN.md §6), like `llm logs`.
 *
 * Prints the most recent calls from the state file's calls table, oldest
 * first: NDJSON when stdout is not a terminal (or with --json), else one
 * readable line per call. --totals sums tokens and cost per model.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/path.h"
#include "cli/prog.h"
#include "json/json.h"
#include "state/db.h"

static const char usage[] =
	"usage: panic-log [-n N] [FILTER]... [--totals] [--json | --table] [--db PATH]\n"
	"Show the most recent model calls, oldest first.\n"
	"\n"
	"  -n, --count N     how many (default 20; 0 for all)\n"
	"  -m, --model ID    only calls of this model\n"
	"      --network NAME  only calls of this network's runs\n"
	"      --run ID      only calls of this run (a network's or a workflow's)\n"
	"      --agent NAME  only calls of this agent\n"
	"  -s, --search TEXT only calls whose prompt, response or error holds TEXT\n"
	"                    (ASCII letters in either case)\n"
	"  -t, --totals      calls, failures, tokens and cost (US$) per model, and\n"
	"                    for all (model null)\n"
	"      --json        one JSON object per call (the default off a terminal)\n"
	"      --table       one readable line per call (the default on a terminal)\n"
	"      --db PATH     state file (default $PANIC_DB or\n"
	"                    ~/.local/state/panic/panic.db)\n"
	"  -q, --quiet       less on stderr -v, --verbose more on stderr\n"
	"  -h, --help        this help      --version   the version\n"
	"\n"
	"No state file yet is no calls yet (but a --db file that is not there is\n"
	"an error).\n"
	"\n"
	"Exit: 0 ok, 2 usage, 3 a state error.\n";

enum { O_JSON = 256, O_TABLE, O_NETWORK, O_RUN, O_AGENT };

static const struct option longopts[] = {
	{ "count", required_argument, 0, 'n' },
	{ "model", required_argument, 0, 'm' },
	{ "totals", no_argument, 0, 't' },
	{ "network", required_argument, 0, O_NETWORK },
	{ "run", required_argument, 0, O_RUN },
	{ "agent", required_argument, 0, O_AGENT },
	{ "search", required_argument, 0, 's' },
	{ "json", no_argument, 0, O_JSON },
	{ "table", no_argument, 0, O_TABLE },
	PROG_OPTIONS,
	{ 0, 0, 0, 0 },
};

static int width = 100;

static int print_json(jv row, void *ctx)
{
	(void)ctx;
	json_write(stdout, row);
	jv_free(row);
	return 0;
}

/* Writes S on one line, at most MAX bytes of it, ending in "..." if cut,
 * never cutting a UTF-8 sequence; white space as spaces and any other
 * control character shown harmlessly (an escape sequence in a model's
 * output never reaches the terminal). Returns the bytes taken. */
static int clip(const char *s, int max)
{
	size_t n = strlen(s), cut = n;
	if (max < 4)
		max = 4;
	if (n > (size_t)max) {
		cut = (size_t)max - 3;
		while (cut > 0 && (s[cut] & 0xc0) == 0x80)
			cut--;
	}
	for (size_t i = 0, k; i < cut; i += k) {
		k = strcspn(s + i, "\n\r\t");
		if (k > cut - i)
			k = cut - i;
		prog_put_safe(stdout, s + i, k, 0);
		if (i + k < cut) {
			putchar(' ');
			k++;
		}
	}
	if (cut < n)
		fputs("...", stdout);
	return (int)cut + (cut < n ? 3 : 0);
}

/* clip() to MAX, then spaces to COLS: a column of text from outside. */
static int column(const char *s, int cols, int max)
{
	int w = clip(s, max);
	for (; w < cols; w++)
		putchar(' ');
	return w;
}

static int print_line(jv row, void *ctx)
{
	(void)ctx;
	const char *at = json_str(row, "started_at", NULL);
	const char *model = json_str(row, "model", NULL);
	const char *state = json_str(row, "state", NULL);
	const char *in = json_str(row, "input", NULL);
	const char *out = json_str(row, "output", NULL);
	jv err = json_get(row, "error");
	const char *why = json_str(err, "message", NULL);
	jv dur = json_get(row, "duration_ms");
	int head = printf("%.19s ", at ? at : "?");
	head += column(model ? model : "?", 12, 40);
	head += printf(" %-9s %5.0f ms  ", state ? state : "?",
	               jv_get_kind(dur) == JV_KIND_NUMBER ? jv_number_value(dur) : 0);
	int room = width - head - 4;
	if (room < 8)
		room = 8;
	room -= clip(in ? in : "", room / 2);
	fputs(" -> ", stdout);
	clip(why ? why : out ? out : "", room);
	putchar('\n');
	jv_free(dur);
	jv_free(err);
	jv_free(row);
	return 0;
}

/* A number column of ROW, or "-" if null. */
static const char *num(jv row, const char *key, const char *fmt, char *buf, size_t size)
{
	jv v = json_get(row, key);
	if (jv_get_kind(v) == JV_KIND_NUMBER)
		snprintf(buf, size, fmt, jv_number_value(v));
	else
		snprintf(buf, size, "-");
	jv_free(v);
	return buf;
}

static int print_total(jv row, void *ctx)
{
	int *first = ctx;
	char a[32], b[32], c[32], d[32], e[32];
	if ((*first)++ == 0)
		printf("%-32s %7s %7s %12s %12s %12s\n", "MODEL", "CALLS", "FAILED", "IN TOKENS",
		       "OUT TOKENS", "COST US$");
	column(json_str_or(row, "model", "(all)"), 32, 64);
	printf(" %7s %7s %12s %12s %12s\n", num(row, "calls", "%.0f", a, sizeof a), num(row, "failed", "%.0f", b, sizeof b),
	       num(row, "input_tokens", "%.0f", c, sizeof c),
	       num(row, "output_tokens", "%.0f", d, sizeof d), num(row, "cost", "%.6f", e, sizeof e));
	jv_free(row);
	return 0;
}

int main(int argc, char **argv)
{
	prog_init("panic-log");
	struct db_call_filter f = { .limit = 20 };
	int table = isatty(1), totals = 0;
	int c;
	while ((c = getopt_long(argc, argv, "n:m:s:tqvh", longopts, NULL)) != -1) {
		switch (c) {
		case 't': totals = 1; break;
		case 'n': f.limit = prog_atol("-n", optarg, 0, 1L << 40); break;
		case 'm': f.model = optarg; break;
		case O_NETWORK: f.network = optarg; break;
		case O_RUN: f.run_id = optarg; break;
		case O_AGENT: f.agent = optarg; break;
		case 's': f.search = optarg; break;
		case O_JSON: table = 0; break;
		case O_TABLE: table = 1; break;
		default: prog_option(c, usage);
		}
	}
	if (optind < argc)
		pusage("unexpected argument '%s'", argv[optind]);
	struct winsize ws;
	if (table && ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		width = ws.ws_col;
	else if (getenv("COLUMNS"))
		width = atoi(getenv("COLUMNS")) > 0 ? atoi(getenv("COLUMNS")) : width;

	/* No state file yet is no calls yet, unless --db names a file that
	 * is not there (a typo). */
	char *path = path_db(prog_db);
	struct stat st;
	int none = !prog_db && path && stat(path, &st) < 0 && errno == ENOENT;
	free(path);
	if (none) {
		if (prog_verbose > 0)
			pwarn("no state file yet: no calls");
		return prog_finish(PX_OK);
	}
	struct db *db = prog_state(0);
	int first = 0;
	int rc = totals ? db_call_totals(db, &f, table ? print_total : print_json, &first)
	                : db_call_list(db, &f, table ? print_line : print_json, NULL);
	db_close(db);
	if (rc < 0)
		pdie(PX_CONFIG, "state: %s", err_msg());
	return prog_finish(PX_OK);
}

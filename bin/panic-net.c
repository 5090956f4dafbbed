/* panic-net: networks, PANIC!'s cycles of models (DESIGN.md §6).
 *
 *   create NAME MODEL...   a new network (checked: the models must chain)
 *   set NAME [MODEL...]    change its models, lockout or description
 *   show NAME              the network, as JSON
 *   list                   every network
 *   delete NAME            remove it (with --force, its runs too)
 *
 * A network is refused unless its types chain: the first model takes text,
 * each output type is the next model's input type, and the last output
 * feeds the first input. Names are [A-Za-z0-9._-], as they become bus
 * topics (invocation:NAME) and systemd instances (panic-loop@NAME).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "cli/prog.h"
#include "json/json.h"
#include "model/catalogue.h"
#include "state/db.h"

static const char usage[] =
	"usage: panic-net [OPTION]... create NAME MODEL...\n"
	"       panic-net [OPTION]... set NAME [MODEL...]\n"
	"       panic-net [OPTION]... show NAME | list | delete NAME\n"
	"Networks: cycles of models, each output the next model's input.\n"
	"\n"
	"  -l, --lockout SECS     create, set: how long a run is safe from a new\n"
	"                         prompt (default 30)\n"
	"  -d, --description TEXT create, set: what it is for (\"\" removes it)\n"
	"  -f, --force            delete: also a network that has runs\n"
	"      --json, --table    list: force the format\n"
	"      --models FILE      user catalogue (default $PANIC_MODELS or\n"
	"                         ~/.config/panic/models.json)\n"
	"      --db PATH          state file (default $PANIC_DB or\n"
	"                         ~/.local/state/panic/panic.db)\n"
	"  -q, --quiet            less on stderr  -v, --verbose  more on stderr\n"
	"  -h, --help             this help       --version      the version\n"
	"\n"
	"Exit: 0 ok, 2 usage, 3 invalid network, no such network, or a state\n"
	"error.\n";

enum { O_JSON = 256, O_TABLE, O_MODELS };

static const struct option longopts[] = {
	{ "lockout", required_argument, 0, 'l' },
	{ "description", required_argument, 0, 'd' },
	{ "force", no_argument, 0, 'f' },
	{ "json", no_argument, 0, O_JSON },
	{ "table", no_argument, 0, O_TABLE },
	{ "models", required_argument, 0, O_MODELS },
	PROG_OPTIONS,
	{ 0, 0, 0, 0 },
};

static struct {
	long lockout; /* -1: not given */
	const char *description;
	const char *models;
	int force, table;
} opt = { .lockout = -1 };

static void options(int argc, char **argv)
{
	int c;
	/* Options anywhere: panic-net create art m1 m2 --lockout 5 */
	while ((c = getopt_long(argc, argv, "l:d:fqvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'l': /* whole seconds, rounded up */
			opt.lockout = (long)((prog_ms("--lockout", optarg, 86400 * 365, 0) + 999) / 1000);
			break;
		case 'd': opt.description = optarg; break;
		case 'f': opt.force = 1; break;
		case O_JSON: opt.table = 0; break;
		case O_TABLE: opt.table = 1; break;
		case O_MODELS: opt.models = optarg; break;
		default: prog_option(c, usage);
		}
	}
}

static void check_name(const char *name)
{
	size_t n = strlen(name);
	if (!n || n > 64 || name[0] == '.' || name[0] == '-' ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != n)
		pdie(PX_USAGE, "'%s': a network name is 1 to 64 of A-Z a-z 0-9 . _ - "
		               "(not starting with . or -)", name);
}

/* The network NAME, or exit 3. */
static jv get(struct db *db, const char *name)
{
	jv net = db_net_get(db, name);
	if (!jv_is_valid(net))
		pdie(PX_CONFIG, "state: %s", err_msg());
	if (jv_get_kind(net) == JV_KIND_NULL)
		pdie(PX_CONFIG, "no network '%s' (see panic-net list)", name);
	return net;
}

/* Checks that the model ids MODELS (borrowed) chain, or exits 3. */
static void check_chain(jv models)
{
	struct catalogue *cat;
	if (catalogue_load(&cat, opt.models) < 0)
		pdie(PX_CONFIG, "%s", err_msg());
	int rc = catalogue_chain(cat, models);
	catalogue_free(cat);
	if (rc < 0)
		pdie(PX_CONFIG, "invalid network: %s", err_msg());
}

static jv model_list(int argc, char **argv)
{
	jv models = jv_array();
	for (int i = 0; i < argc; i++)
		models = jv_array_append(models, jv_string(argv[i]));
	return models;
}

static void print(jv net)
{
	json_write(stdout, net);
	jv_free(net);
}

static int print_row(jv net, void *ctx)
{
	(void)ctx;
	if (!opt.table) {
		print(net);
		return 0;
	}
	static int rows;
	if (!rows++)
		printf("%-20s %7s  %s\n", "NAME", "LOCKOUT", "MODELS  # DESCRIPTION");
	jv models = json_get(net, "models");
	jv lock = json_get(net, "lockout_seconds");
	const char *desc = json_str(net, "description", NULL);
	printf("%-20s %6.0fs  ", json_str(net, "name", NULL), jv_number_value(lock));
	for (int i = 0; i < jv_array_length(jv_copy(models)); i++) {
		jv m = jv_array_get(jv_copy(models), i);
		printf("%s%s", i ? " -> " : "", jv_string_value(m));
		jv_free(m);
	}
	printf("%s%s\n", desc ? "  # " : "", desc ? desc : "");
	jv_free(models);
	jv_free(lock);
	jv_free(net);
	return 0;
}

static jv with_options(jv net)
{
	if (opt.lockout >= 0)
		net = json_set(net, "lockout_seconds", jv_number((double)opt.lockout));
	if (opt.description)
		net = json_set(net, "description", jv_string(opt.description));
	return net;
}

int main(int argc, char **argv)
{
	prog_init("panic-net");
	opt.table = isatty(1);
	options(argc, argv);
	if (optind >= argc)
		pusage("no command (create, set, show, list or delete)");
	const char *cmd = argv[optind++];
	int rest = argc - optind;
	char **args = argv + optind;
	int create = !strcmp(cmd, "create"), set = !strcmp(cmd, "set");
	int show = !strcmp(cmd, "show"), del = !strcmp(cmd, "delete");
	if (!create && !set && !show && !del && strcmp(cmd, "list"))
		pusage("unknown command '%s' (create, set, show, list or delete)", cmd);
	if ((create || set || show || del) && rest < 1)
		pusage("%s: no network name", cmd);
	if ((show || del) && rest > 1)
		pusage("%s takes one network name", cmd);
	if (!strcmp(cmd, "list") && rest)
		pusage("list takes no arguments");
	if (create && rest < 2)
		pusage("create: give NAME MODEL... (at least one model)");
	if ((create || set || show || del))
		check_name(args[0]);

	struct db *db = prog_state(create || set || del ? DB_CREATE | DB_WRITE : DB_CREATE);
	int status = PX_OK;
	if (create || set) {
		jv net = json_set(jv_object(), "name", jv_string(args[0]));
		if (create || rest > 1) {
			jv models = model_list(rest - 1, args + 1);
			check_chain(models);
			net = json_set(net, "models", models);
		}
		net = with_options(net);
		int rc = create ? db_net_create(db, net) : db_net_update(db, net);
		jv_free(net);
		if (rc < 0)
			pdie(PX_CONFIG, "%s", err_msg());
		print(get(db, args[0]));
	} else if (show) {
		print(get(db, args[0]));
	} else if (del) {
		if (db_net_delete(db, args[0], opt.force) < 0)
			pdie(PX_CONFIG, "%s", err_msg());
		if (prog_verbose > 0)
			pwarn("deleted network '%s'", args[0]);
	} else if (db_net_list(db, print_row, NULL) < 0) {
		pdie(PX_CONFIG, "state: %s", err_msg());
	}
	if (db_close(db) < 0)
		pdie(PX_CONFIG, "state: %s", err_msg());
	return prog_finish(status);
}

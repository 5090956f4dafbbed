/* path: where state, bus and configuration live (DESIGN.md §2).
 *
 * Each function returns a malloc'd path the caller frees, or NULL with
 * err_msg() set. Order: the explicit value (an option), the environment
 * variable, then the XDG default.
 */
#ifndef PANIC_PATH_H
#define PANIC_PATH_H

/* OPT, else $PANIC_DB, else ${XDG_STATE_HOME:-~/.local/state}/panic/panic.db */
char *path_db(const char *opt);
/* OPT, else $PANIC_BUS, else $XDG_RUNTIME_DIR/panic-$UID/bus; without
 * XDG_RUNTIME_DIR, /run/user/$UID (if it is the user's, mode 0700) or /tmp */
char *path_bus(const char *opt);
/* OPT, else $PANIC_ARCHIVE, else ${XDG_DATA_HOME:-~/.local/share}/panic/archive:
 * where panic-archive stores files */
char *path_archive(const char *opt);
/* ${XDG_CONFIG_HOME:-~/.config}/panic/NAME */
char *path_config(const char *name);
/* Creates every missing parent directory of PATH with MODE. 0 or -1. */
int path_mkparents(const char *path, int mode);

#endif

/* keys: API keys (DESIGN.md §2), from the environment or the keys file.
 *
 * keys_get(NAME) is $NAME if set and not empty, else the value of the line
 * NAME=VALUE (or "export NAME=VALUE"; '#' starts a comment line, quotes
 * around VALUE are dropped) in ${XDG_CONFIG_HOME:-~/.config}/panic/keys,
 * or $PANIC_KEYS. The file must be a regular file (a symlink to one is
 * followed) owned by this user and readable by its owner only (0600 or
 * stricter); one that others can read, or someone else's, is refused, key
 * and all. The file is read once per process.
 */
#ifndef PANIC_KEYS_H
#define PANIC_KEYS_H

/* The key (borrowed, valid until exit), or NULL: err_msg() says why (no
 * such key, or a keys file others can read). */
const char *keys_get(const char *name);
/* Forgets the keys file, to read it again at the next keys_get() (for
 * tests and the fuzzer; programs read it once). */
void keys_reset(void);
/* 1 if the keys file exists and was refused (keys_get() says why): an
 * error even where a call could go without a key. */
int keys_refused(void);

#endif

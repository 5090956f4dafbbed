/* err: the library's error value.
 *
 * lib/ never prints and never exits. A function that fails returns -1 (or
 * NULL) after recording why with err_set() or err_errno(); the program reads
 * the reason with err_msg() and decides what to say and how to exit. The
 * message is one line, lower case, without the program name.
 */
#ifndef PANIC_ERR_H
#define PANIC_ERR_H

/* Records a formatted reason; always returns -1. An argument may be
 * err_msg() itself, to add to the reason already recorded. */
int err_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Records "WHAT: strerror(errno)"; always returns -1. */
int err_errno(const char *what);
/* The last reason recorded. Valid until the next err_set(). */
const char *err_msg(void);

#endif

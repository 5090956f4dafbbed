/* err: the library's error value; see err.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"

static char msg[512];

int err_set(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return -1;
}

int err_errno(const char *what)
{
	return err_set("%s: %s", what, strerror(errno));
}

const char *err_msg(void)
{
	return msg;
}

/* err: the library's error value; see err.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"

static char msg[512];

int err_set(const char *fmt, ...)
{
	/* Built aside first: an argument may be err_msg() itself. */
	char buf[sizeof msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	memcpy(msg, buf, sizeof msg);
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

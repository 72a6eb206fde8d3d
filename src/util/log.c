#include "autoconf.h"

#include "util/log.h"

#include <stdarg.h>
#include <strings.h>

#include "util/buf.h"
#include "util/time.h"

static const char *const level_names[] = {
#define X(id, name) name,
    LOG_LEVELS(X)
#undef X
};

static enum log_level current_level = LOG_INFO;
static FILE *log_fp;

const char *log_level_name(enum log_level level)
{
	return level < LOG_LEVEL_COUNT ? level_names[level] : "?";
}

bool log_level_parse(const char *name, enum log_level *level)
{
	for (int i = 0; i < LOG_LEVEL_COUNT; i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*level = (enum log_level)i;
			return true;
		}
	}
	return false;
}

void log_set_level(enum log_level level)
{
	current_level = level;
}

enum log_level log_get_level(void)
{
	return current_level;
}

void log_set_file(FILE *fp)
{
	log_fp = fp;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	struct buf line = BUF_INIT;
	char stamp[TIME_ISO8601_MAX];
	va_list ap;
	FILE *fp = log_fp ? log_fp : stderr;

	if (level > current_level)
		return;
	struct buf text = BUF_INIT;

	buf_addf(&line, "%s %s ", time_iso8601(stamp, time_wall_ns(), true), log_level_name(level));
	va_start(ap, fmt);
	buf_vaddf(&text, fmt, ap);
	va_end(ap);
	/* Whatever the caller passed (a client's bytes, PLECS's error), the line is printable text. */
	buf_add_printable(&line, buf_str(&text), text.len);
	buf_free(&text);
	buf_addc(&line, '\n');
	fwrite(line.data, 1, line.len, fp);
	fflush(fp);
	buf_free(&line);
}

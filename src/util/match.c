#include "autoconf.h"

#include "util/match.h"

#include <fnmatch.h>
#include <string.h>

bool match_is_pattern(const char *want)
{
	return strpbrk(want, "*?[") != NULL;
}

bool match_model(const char *path, const char *want)
{
	const char *slash, *base, *dot;
	size_t plen, wlen;

	if (path == NULL || want == NULL)
		return false;
	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	if (match_is_pattern(want))
		return fnmatch(want, path, 0) == 0 || fnmatch(want, base, 0) == 0;
	plen = strlen(path);
	wlen = strlen(want);
	/* The whole path, or its tail after a '/': the file name, or directories and the file name. */
	if (wlen <= plen && strcmp(path + plen - wlen, want) == 0 &&
	    (wlen == plen || path[plen - wlen - 1] == '/' || want[0] == '/'))
		return true;
	/* The model name: the file name without its extension. */
	dot = strrchr(base, '.');
	return dot && dot > base && (size_t)(dot - base) == wlen && strncmp(base, want, wlen) == 0;
}

bool match_text(const char *text, const char *want)
{
	if (text == NULL || want == NULL)
		return false;
	return match_is_pattern(want) ? fnmatch(want, text, 0) == 0 : strstr(text, want) != NULL;
}

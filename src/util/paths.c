#include "autoconf.h"

#include "util/paths.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/xalloc.h"

char *paths_join(const char *a, const char *b)
{
	size_t la = strlen(a);

	while (la > 1 && a[la - 1] == '/')
		la--;
	while (*b == '/')
		b++;
	if (la == 1 && a[0] == '/')
		return xasprintf("/%s", b);
	return xasprintf("%.*s/%s", (int)la, a, b);
}

static const char *home_dir(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (home && *home)
		return home;
	pw = getpwuid(getuid());
	return pw && pw->pw_dir ? pw->pw_dir : "/";
}

/* $VAR if set to an absolute path (XDG says relative ones are ignored), else ~/fallback. */
static char *xdg_dir(const char *var, const char *fallback)
{
	const char *v = getenv(var);

	if (v && v[0] == '/')
		return xstrdup(v);
	return paths_join(home_dir(), fallback);
}

char *paths_config_file(void)
{
	char *base = xdg_dir("XDG_CONFIG_HOME", ".config");
	char *path = paths_join(base, "simq/simq.ini");

	free(base);
	return path;
}

char *paths_absolute(const char *path)
{
	char *cwd, *abs;

	if (path[0] == '/')
		return xstrdup(path);
	cwd = getcwd(NULL, 0);
	if (cwd == NULL)
		return xstrdup(path);
	abs = paths_join(cwd, path);
	free(cwd);
	return abs;
}

char *paths_state_dir(const char *override)
{
	const char *home = getenv("SIMQ_HOME");
	char *base, *dir;

	if (override && *override)
		return paths_absolute(override);
	if (home && *home)
		return paths_absolute(home);
	base = xdg_dir("XDG_STATE_HOME", ".local/state");
	dir = paths_join(base, "simq");
	free(base);
	return dir;
}

static bool make_dirs(char *path, mode_t mode, char **err)
{
	struct stat st;

	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return true;
		*err = xasprintf("%s exists and is not a directory", path);
		return false;
	}
	char *slash = strrchr(path, '/');

	if (slash && slash != path) {
		*slash = '\0';
		bool ok = make_dirs(path, 0755, err);

		*slash = '/';
		if (!ok)
			return false;
	}
	if (mkdir(path, mode) != 0 && errno != EEXIST) {
		*err = xasprintf("cannot create directory %s: %s", path, strerror(errno));
		return false;
	}
	return true;
}

bool paths_make_private_dir(const char *dir, char **err)
{
	char *path = xstrdup(dir);
	struct stat st;
	bool ok = make_dirs(path, 0700, err);

	free(path);
	if (!ok)
		return false;
	if (stat(dir, &st) != 0) {
		*err = xasprintf("cannot read %s: %s", dir, strerror(errno));
		return false;
	}
	if (st.st_uid != geteuid()) {
		*err = xasprintf(
		    "%s belongs to another user (uid %u); simq keeps its state only in a directory of its own", dir,
		    (unsigned)st.st_uid);
		return false;
	}
	if ((st.st_mode & 07777) != 0700 && chmod(dir, 0700) != 0) {
		*err = xasprintf("cannot make %s private (chmod 0700): %s", dir, strerror(errno));
		return false;
	}
	return true;
}

char *paths_data_dir(const char *name, const char *installed)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	struct stat st;

	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');

		if (slash)
			*slash = '\0';
		char *share = xasprintf("%s/../share/%s", exe, name);

		if (stat(share, &st) == 0 && S_ISDIR(st.st_mode))
			return share;
		free(share);
	}
	return xstrdup(installed);
}

/*
 * paths — where simq keeps its configuration and its state.
 *
 * Config file: -c FILE, else $XDG_CONFIG_HOME/simq/simq.ini, else
 * ~/.config/simq/simq.ini.  State dir: --state DIR, else $SIMQ_HOME, else
 * $XDG_STATE_HOME/simq, else ~/.local/state/simq.  The state dir holds the
 * socket, the database and results, so it is created with mode 0700 and a
 * too-open existing one is tightened.  Called at start-up from the main thread.
 */
#ifndef SIMQ_UTIL_PATHS_H
#define SIMQ_UTIL_PATHS_H

#include <stdbool.h>

/* Returns a heap string (caller frees): a + "/" + b, with no doubled slash. */
char *paths_join(const char *a, const char *b);
/* The default config file path; a heap string (caller frees). */
char *paths_config_file(void);
/* The state dir for an optional --state override; a heap string (caller frees). */
char *paths_state_dir(const char *override);
/*
 * Creates dir and its missing parents; dir itself gets mode 0700.  An existing
 * dir owned by us is chmod'ed to 0700; one owned by another user is refused.
 * On failure returns false and *err gets a heap message (caller frees).
 */
bool paths_make_private_dir(const char *dir, char **err);
/*
 * Where the files of share/NAME are: next to the running program in a build tree (src/simq beside
 * share/), else installed (the directory given, e.g. $(pkgdatadir)/NAME).  A heap string.
 */
char *paths_data_dir(const char *name, const char *installed);
/* Makes path absolute against the current directory; a heap string (caller frees). */
char *paths_absolute(const char *path);

#endif

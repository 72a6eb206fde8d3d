/*
 * console — `simq` with no arguments (or `simq console`): the ncurses client
 * operators leave open in a tmux pane.
 *
 * A thin client of simq.view: a view thread long-polls the server and hands
 * each answer to the libev loop, which draws once per pass.  Actions go to
 * the server as API calls from the loop thread.  Quitting never stops the
 * server.  Test hooks (STYLE 16): SIMQ_SCREEN_DUMP=FILE writes the screen's
 * text after each frame; SIMQ_SCRIPT=FILE feeds keys, one name per line as
 * [keys] writes them, one per frame once the first view has arrived.
 */
#ifndef SIMQ_UI_CONSOLE_H
#define SIMQ_UI_CONSOLE_H

#include "cli/cli.h"

extern const struct cli_command cli_cmd_console;

/* Runs the console with the options after "console" (argv[0] is the command name). */
int console_main(int argc, char **argv);

#endif

/*
 * console — the ncurses client operators leave open in a tmux pane; `simq`
 * with no arguments (or `simq console`, src/cli/cmd-console.c) opens it.
 *
 * A thin client of simq.view: a view thread long-polls the server and hands
 * each answer to the libev loop, which draws once per pass.  Actions go to
 * the server as API calls from the loop thread.  Quitting never stops the
 * server.  Test hooks (STYLE 16): SIMQ_SCREEN_DUMP=FILE writes the screen's
 * text after each frame; SIMQ_SCRIPT=FILE feeds keys, one name per line as
 * [keys] writes them, one per frame once the first view has arrived;
 * SIMQ_BENCH_FRAMES=N times N frames for bench/console; SIMQ_TEST_NOW (an ISO
 * time) stops the clock for golden screens.  SIMQ_CAPTION=FILE puts each new
 * line of FILE in the log as the console's own (the demo tells its story so).
 *
 * The console's own files: ui.h (its state and the calls every file makes),
 * frame.c (one frame: the panes laid out, the bottom line), pane-*.c (one
 * file per pane behind struct pane_ops: queue or history, running, log,
 * statistics or backends, the status bar), the modes behind struct mode_ops
 * (mode-normal.c, mode-help.c, mode-details.c, mode-filter.c, form.c),
 * screen.c and text.c (drawing and formatting), keys.c (the keymap).
 */
#ifndef SIMQ_UI_CONSOLE_H
#define SIMQ_UI_CONSOLE_H

#include "client/client.h"
#include "config/config.h"

/*
 * Runs the console until the operator quits, on the main thread; takes cfg (a loaded
 * configuration without errors).  Returns a CLI_EXIT_* status (cli/cli.h).
 */
int console_run(struct config *cfg, const struct client_options *opt);

#endif

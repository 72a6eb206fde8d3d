/*
 * keys — the console's actions and the keys bound to them.
 *
 * The actions are one X-macro; their default keys and help lines come from
 * the [keys] rows of the option table (config/options.c), so simq.ini(5),
 * `simq config --defaults` and the console's help screen say the same.  A
 * key is a code from ui_key_read(): a character, or UI_KEY_FN | an ncurses
 * KEY_* code.  Pure functions apart from ui_key_read(); loop thread only.
 */
#ifndef SIMQ_UI_KEYS_H
#define SIMQ_UI_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

#define UI_ACTIONS(X)                                                                                                  \
	X(UP, "up")                                                                                                    \
	X(DOWN, "down")                                                                                                \
	X(TOP, "top")                                                                                                  \
	X(BOTTOM, "bottom")                                                                                            \
	X(PAGE_UP, "page_up")                                                                                          \
	X(PAGE_DOWN, "page_down")                                                                                      \
	X(NEXT_PANE, "next_pane")                                                                                      \
	X(DETAILS, "details")                                                                                          \
	X(SUBMIT, "submit")                                                                                            \
	X(PRIORITY_UP, "priority_up")                                                                                  \
	X(PRIORITY_DOWN, "priority_down")                                                                              \
	X(PRIORITY_CRITICAL, "priority_critical")                                                                      \
	X(PRIORITY_HIGH, "priority_high")                                                                              \
	X(PRIORITY_NORMAL, "priority_normal")                                                                          \
	X(PRIORITY_LOW, "priority_low")                                                                                \
	X(CANCEL, "cancel")                                                                                            \
	X(RETRY, "retry")                                                                                              \
	X(MARK, "mark")                                                                                                \
	X(MARK_ALL, "mark_all")                                                                                        \
	X(COPY, "copy")                                                                                                \
	X(FILTER, "filter")                                                                                            \
	X(PAUSE, "pause")                                                                                              \
	X(STATS_WINDOW, "stats_window")                                                                                \
	X(HISTORY, "history")                                                                                          \
	X(SORT, "sort")                                                                                                \
	X(BACKENDS, "backends")                                                                                        \
	X(HELP, "help")                                                                                                \
	X(QUIT, "quit")

enum ui_action {
#define X(id, name) UI_##id,
	UI_ACTIONS(X)
#undef X
	UI_ACTION_COUNT,
	UI_NONE = -1
};

/* Function keys are ncurses KEY_* codes with this bit; characters are their code points. */
#define UI_KEY_FN (1 << 24)
#define UI_KEY_ESC 27

#define UI_KEYS_MAX 8

struct ui_keymap {
	int keys[UI_ACTION_COUNT][UI_KEYS_MAX];
	size_t nkeys[UI_ACTION_COUNT];
	char *text[UI_ACTION_COUNT];   /* the bindings as written, "k,Up" */
};

const char *ui_action_name(enum ui_action a);
/* The action's help line, from the option table. */
const char *ui_action_help(enum ui_action a);
/* Fills map from cfg's [keys] (defaults where unset). */
void ui_keymap_load(struct ui_keymap *map, const struct config *cfg);
void ui_keymap_free(struct ui_keymap *map);
/* The action bound to key, or UI_NONE. */
enum ui_action ui_keymap_action(const struct ui_keymap *map, int key);
/* A key name as written in [keys] ("Up", "C-b", "q") to its code; -1 when it is none. */
int ui_key_parse(const char *name);
/* The next key from ncurses (get_wch) as a code; -1 when none is waiting. */
int ui_key_read(void);

#endif

#include "autoconf.h"

#include "ui/keys.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>

#define NCURSES_WIDECHAR 1
#include <curses.h>

#include "config/options.h"
#include "util/xalloc.h"

static const char *const action_names[] = {
#define X(id, name) name,
	UI_ACTIONS(X)
#undef X
};

const char *ui_action_name(enum ui_action a)
{
	return a >= 0 && a < UI_ACTION_COUNT ? action_names[a] : "none";
}

const char *ui_action_help(enum ui_action a)
{
	const struct option_def *opt = option_find("keys", ui_action_name(a));

	return opt ? opt->help : "";
}

static const struct {
	const char *name;
	int code;
} named_keys[] = {
	{"Up", UI_KEY_FN | KEY_UP},	   {"Down", UI_KEY_FN | KEY_DOWN},     {"Left", UI_KEY_FN | KEY_LEFT},
	{"Right", UI_KEY_FN | KEY_RIGHT},  {"PgUp", UI_KEY_FN | KEY_PPAGE},    {"PgDn", UI_KEY_FN | KEY_NPAGE},
	{"Home", UI_KEY_FN | KEY_HOME},	   {"End", UI_KEY_FN | KEY_END},       {"Enter", '\n'},
	{"Tab", '\t'},			   {"BTab", UI_KEY_FN | KEY_BTAB},     {"Space", ' '},
	{"Esc", UI_KEY_ESC},		   {"Backspace", UI_KEY_FN | KEY_BACKSPACE}, {"Delete", UI_KEY_FN | KEY_DC},
	{"Insert", UI_KEY_FN | KEY_IC},	   {"Comma", ','},
};

int ui_key_parse(const char *name)
{
	size_t len = strlen(name);

	if (len == 1)
		return (unsigned char)name[0];
	if (len == 3 && (name[0] == 'C' || name[0] == 'c') && name[1] == '-' && isalpha((unsigned char)name[2]))
		return tolower((unsigned char)name[2]) & 0x1f;
	if ((name[0] == 'F' || name[0] == 'f') && isdigit((unsigned char)name[1])) {
		int n = atoi(name + 1);

		if (n >= 1 && n <= 12)
			return UI_KEY_FN | KEY_F(n);
	}
	for (size_t i = 0; i < sizeof named_keys / sizeof named_keys[0]; i++)
		if (strcasecmp(name, named_keys[i].name) == 0)
			return named_keys[i].code;
	return -1;
}

void ui_keymap_load(struct ui_keymap *map, const struct config *cfg)
{
	memset(map, 0, sizeof *map);
	for (int a = 0; a < UI_ACTION_COUNT; a++) {
		const char *spec = config_str(cfg, "keys", action_names[a]);
		char *copy = xstrdup(spec), *save = NULL;

		map->text[a] = xstrdup(spec);
		for (char *tok = strtok_r(copy, ",", &save); tok && map->nkeys[a] < UI_KEYS_MAX;
		     tok = strtok_r(NULL, ",", &save)) {
			while (*tok == ' ')
				tok++;
			for (char *end = tok + strlen(tok); end > tok && end[-1] == ' ';)
				*--end = '\0';
			int code = ui_key_parse(tok);

			if (code >= 0)
				map->keys[a][map->nkeys[a]++] = code;
		}
		free(copy);
	}
}

void ui_keymap_free(struct ui_keymap *map)
{
	for (int a = 0; a < UI_ACTION_COUNT; a++) {
		free(map->text[a]);
		map->text[a] = NULL;
	}
}

enum ui_action ui_keymap_action(const struct ui_keymap *map, int key)
{
	/* Terminals send Enter as CR or as KEY_ENTER, and Backspace as DEL or ^H. */
	if (key == '\r' || key == (UI_KEY_FN | KEY_ENTER))
		key = '\n';
	if (key == 127 || key == 8)
		key = UI_KEY_FN | KEY_BACKSPACE;
	for (int a = 0; a < UI_ACTION_COUNT; a++)
		for (size_t i = 0; i < map->nkeys[a]; i++)
			if (map->keys[a][i] == key)
				return (enum ui_action)a;
	return UI_NONE;
}

int ui_key_read(void)
{
	wint_t ch;
	int r = get_wch(&ch);

	if (r == ERR)
		return -1;
	return r == KEY_CODE_YES ? UI_KEY_FN | (int)ch : (int)ch;
}

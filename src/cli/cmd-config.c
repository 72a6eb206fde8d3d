/* simq config: print the defaults or the man page, or check a configuration file. */
#include "autoconf.h"

#include <getopt.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "config/config.h"
#include "util/paths.h"

static int config_check(const char *path, bool given)
{
	struct config *cfg = config_load(path, given);
	size_t n;

	config_check_socket(cfg);
	n = config_error_count(cfg);
	int status = CLI_EXIT_OK;

	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%s\n", config_error(cfg, i));
	if (n > 0) {
		fprintf(stderr, "%s: %zu error%s\n", path, n, n == 1 ? "" : "s");
		status = CLI_EXIT_CONFIG;
	} else if (config_path(cfg) == NULL) {
		printf("%s: no such file; the defaults apply (simq config --defaults shows them)\n", path);
	} else {
		printf("%s: valid\n", path);
	}
	config_free(&cfg);
	return status;
}

static const struct option config_longopts[] = {
    {"defaults", no_argument, NULL, 'd'}, {"check", no_argument, NULL, 'k'},
    {"man", no_argument, NULL, 'm'},      {"config", required_argument, NULL, 'c'},
    {"help", no_argument, NULL, 'h'},     {NULL, 0, NULL, 0},
};

static int run_config(int argc, char **argv)
{
	int mode = 0, c;
	const char *file = NULL;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, cli_cmd_config.shortopts, config_longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
		case 'k':
		case 'm':
			if (mode && mode != c)
				return cli_usage_error(&cli_cmd_config, "give one of --defaults, --check and --man");
			mode = c;
			break;
		case 'c':
			file = optarg;
			break;
		case 'h':
			printf("Usage: %s\n", cli_cmd_config.usage);
			return CLI_EXIT_OK;
		case ':':
			return cli_usage_error(&cli_cmd_config, "%s needs a value", argv[optind - 1]);
		default:
			return cli_unknown_option(&cli_cmd_config, argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(&cli_cmd_config, "unexpected argument \"%s\"", argv[optind]);
	if (mode == 0)
		return cli_usage_error(&cli_cmd_config, "say what to do: --defaults, --check or --man");
	if (file && mode != 'k')
		return cli_usage_error(&cli_cmd_config, "-c goes with --check");
	if (mode == 'd') {
		config_write_defaults(stdout);
		return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_IO;
	}
	if (mode == 'm') {
		config_write_man(stdout, PACKAGE_VERSION);
		return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_IO;
	}
	if (file)
		return config_check(file, true);
	char *path = paths_config_file();
	int status = config_check(path, false);

	free(path);
	return status;
}

const struct cli_command cli_cmd_config = {
    .name = "config",
    .usage = "simq config --defaults | --check [-c FILE] | --man",
    .summary = "print the default simq.ini, or check a configuration file",
    .help = "--defaults prints a complete, commented simq.ini holding every key at its default.\n"
            "--check reads -c FILE (default: $XDG_CONFIG_HOME/simq/simq.ini) and reports every mistake\n"
            "with its file and line; it exits 0 when the file is valid and 78 when it is not.\n"
            "--man prints the simq.ini(5) manual page.",
    .run = run_config,
    .shortopts = ":c:h",
    .longopts = config_longopts,
};

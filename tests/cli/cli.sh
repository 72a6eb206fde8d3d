#!/bin/sh
# The command table: help, version, unknown commands and options.
. "$SIMQ_SRCDIR/tests/lib/tap.sh"
plan 12

expect_status "--help exits 0" 0 "$SIMQ" --help
expect_in "--help lists the config command" "$TMP/out" "  config    print the default simq.ini"
expect_in "--help lists exit statuses" "$TMP/out" " 78  the configuration has errors"
expect_status "--version exits 0" 0 "$SIMQ" --version
expect_in "--version prints the version" "$TMP/out" "simq 0."
expect_status "help COMMAND shows its usage" 0 "$SIMQ" help config
expect_in "help config prints the usage line" "$TMP/out" "Usage: simq config --defaults | --check [-c FILE] | --man"
expect_status "unknown command exits 64" 64 "$SIMQ" frobnicate
expect_in "unknown command names it and shows usage" "$TMP/err" 'simq: unknown command "frobnicate"'
expect_status "unknown option exits 64" 64 "$SIMQ" config --bogus
expect_in "unknown option shows the command's usage" "$TMP/err" "Usage: simq config --defaults"
expect_status "help for an unknown command exits 64" 64 "$SIMQ" help nosuch
done_testing

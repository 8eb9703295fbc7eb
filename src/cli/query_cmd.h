/* `ember query`: a command-line client for a running Ember (or Pyroscope) server. */
#ifndef EMBER_CLI_QUERY_CMD_H
#define EMBER_CLI_QUERY_CMD_H

/* Runs `ember query <merge|series|labels|diff> [flags]`; returns the exit code. */
int query_cmd_main(int argc, char **argv);

#endif

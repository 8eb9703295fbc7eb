/* record_cmd.h — `ember record`: run a command under libember (LD_PRELOAD) and write its
 * profile to a pprof file, or push it to a server (docs/AGENT.md). */
#ifndef CLI_RECORD_CMD_H
#define CLI_RECORD_CMD_H

/* argv after "record". Returns the command's exit status (128 + signal when killed), or 2
 * for a usage error / 1 when the command could not be started. */
int record_cmd_main(int argc, char **argv);

#endif

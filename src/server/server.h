/* server/: process lifecycle for `ember server` — config, logging, storage, HTTP, signals.
 * The only place allowed to hold process-wide state. */
#ifndef EMBER_SERVER_SERVER_H
#define EMBER_SERVER_SERVER_H

/* Runs the server with argv (flags after `server`) until SIGTERM/SIGINT. Returns the process
 * exit code: 0 on a clean stop, 1 on bad configuration or startup failure, 2 for -help. */
int server_main(int argc, char **argv);

#endif

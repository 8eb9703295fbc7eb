/* ember: one executable, subcommands (DESIGN.md §1): server, query, version; agent and
 * record arrive with their issues. */
#include <stdio.h>
#include <string.h>

#include "cli/query_cmd.h"
#include "cli/record_cmd.h"
#include "server/server.h"

#include "base/version.h"

static void usage(FILE *f)
{
    fprintf(f, "Usage: ember <command> [flags]\n\n"
               "Commands:\n"
               "  server    run the Ember server (ingest, storage, query; -help for flags)\n"
               "  query     query a server: merge, series, labels, diff (--help)\n"
               "  record    profile a command with libember: ember record -o f.pb.gz -- CMD\n"
               "  version   print the version\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "server"))
        return server_main(argc - 2, argv + 2);
    if (!strcmp(cmd, "query"))
        return query_cmd_main(argc - 2, argv + 2);
    if (!strcmp(cmd, "record"))
        return record_cmd_main(argc - 2, argv + 2);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "-version") || !strcmp(cmd, "--version")) {
        printf("ember %s\n", EMBER_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "-h") || !strcmp(cmd, "-help") ||
        !strcmp(cmd, "--help")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "ember: unknown command \"%s\"\n\n", cmd);
    usage(stderr);
    return 2;
}

/* Ember's version, one definition for the CLI (`ember version`) and the server's
 * /api/v1/status/buildinfo. The build may override it (-DEMBER_VERSION=...). */
#ifndef EMBER_BASE_VERSION_H
#define EMBER_BASE_VERSION_H

#ifndef EMBER_VERSION
#define EMBER_VERSION "0.1.0"
#endif

#endif

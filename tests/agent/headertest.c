/* include/ember.h must compile standalone as C99 with -pedantic (STYLE.md B1); the C++
 * side is compiled by cxx_work.cc. */
#include "ember.h"

int ember_headertest(void);

int ember_headertest(void)
{
    ember_config_t cfg;
    ember_config_init(&cfg);
    return cfg.version == EMBER_CONFIG_VERSION ? 0 : 1;
}

/* live.c - placeholder until issue 7 lands. */
#include "live.h"
typedef int live_placeholder_t;

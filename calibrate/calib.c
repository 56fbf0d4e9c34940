/* calib.c - placeholder until issue 6 lands. */
#include "calib.h"
typedef int calib_placeholder_t;

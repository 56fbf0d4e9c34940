/*
 * fuzz_costs.c - the calibration loader (models/costs.h costs_load).
 *
 * Input: a calibration JSON file. A file that loads must give costs the
 * models can use: every value and every draw finite, non-negative and small
 * enough to become a sim_time_t, since the models cast them to one.
 */
#include "fuzz/fuzz_util.h"

#include "models/costs.h"

#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_COSTS_DRAWS 8

static void fuzz_costs_usable(double x)
{
    if (!isfinite(x) || x < 0 || x > 1e15)
        abort();
}

int fuzz_costs_one(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write(data, size);
    if (!path)
        return 0;
    costs_t k;
    char err[1024] = "";
    if (costs_load(&k, path, err, sizeof(err)) != 0) {
        if (!strstr(err, path))
            abort(); /* the message names the file */
        return 0;
    }
    static gsl_rng *r;
    if (!r)
        r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 1);
    for (int i = 0; i < COST_N; i++) {
        fuzz_costs_usable(costs_value(&k, (cost_id_t)i));
        for (int d = 0; d < FUZZ_COSTS_DRAWS; d++)
            fuzz_costs_usable(costs_draw(&k, (cost_id_t)i, r));
    }
    return 0;
}

#ifdef LATSURF_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_costs_one(data, size);
}
#endif

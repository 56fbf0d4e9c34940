/*
 * fuzz_tracefs.c - the tracefs text parser (calibrate/traceparse.h) and the
 * per-request join behind `latsurf trace analyze` (calibrate/tracejoin.h).
 *
 * Input: the text of /sys/kernel/tracing/trace. A trace that parses is
 * joined and summarised; a parse error must name a line inside the input.
 * Joined requests must keep their boundary times in order where both ends
 * were found.
 */
#include "fuzz/fuzz_util.h"

#include "calibrate/tracejoin.h"
#include "calibrate/traceparse.h"
#include "sim/result.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int fuzz_tracefs_one(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    FILE *f = fmemopen((void *)data, size, "r");
    if (!f)
        return 0;
    traceparse_t t;
    traceparse_err_t e = {0};
    traceparse_init(&t);
    int rc = traceparse_file(f, &t, &e);
    fclose(f);
    if (rc == 0) {
        for (size_t i = 1; i < t.n; i++)
            if (t.ev[i].ts < t.ev[i - 1].ts)
                abort(); /* sorted by time */
        tracejoin_t j;
        tracejoin_init(&j);
        if (tracejoin_run(&t, &j) == 0) {
            result_t res;
            result_init(&res);
            tracejoin_result(&j, &res, 16);
            result_fini(&res);
        }
        tracejoin_fini(&j);
    } else if (rc == -22 && (e.line == 0 || e.line > t.lines)) {
        abort(); /* -EINVAL names a line of the input */
    }
    traceparse_fini(&t);
    return 0;
}

#ifdef LATSURF_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_tracefs_one(data, size);
}
#endif

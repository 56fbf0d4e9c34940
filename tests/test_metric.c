/*
 * test_metric.c - the metric registry (sim/metric.h) and docs/metrics.md name
 * the same metrics: a registered name missing from the doc, or a documented
 * name missing from the registry, fails. The doc's names are the backticked
 * words in the first column of its tables whose header starts "| name |".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sim/metric.h"
#include "sim/result.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DOC_MAX 256

typedef struct {
    char name[DOC_MAX][64];
    int line[DOC_MAX];
    int n;
} doc_names_t;

static void doc_add(doc_names_t *d, const char *s, size_t len, int line)
{
    if (d->n == DOC_MAX || len >= sizeof(d->name[0]))
        fail_msg("docs/metrics.md:%d: too many names or a name too long", line);
    memcpy(d->name[d->n], s, len);
    d->name[d->n][len] = '\0';
    d->line[d->n++] = line;
}

/* Backticked words of the first cell of every row of the "name" tables. */
static void doc_load(doc_names_t *d)
{
    char path[1024], buf[4096];
    snprintf(path, sizeof(path), "%s/docs/metrics.md",
             getenv("LATSURF_SRC") ? getenv("LATSURF_SRC") : LATSURF_SOURCE_DIR);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    memset(d, 0, sizeof(*d));
    int in_table = 0, line = 0;
    while (fgets(buf, sizeof(buf), f)) {
        line++;
        if (buf[0] != '|') {
            in_table = 0;
            continue;
        }
        if (strncmp(buf, "| name |", 8) == 0) {
            in_table = 1;
            continue;
        }
        if (!in_table || strncmp(buf, "|---", 4) == 0 || strncmp(buf, "| ---", 5) == 0)
            continue;
        char *end = strchr(buf + 1, '|');
        if (!end)
            continue;
        for (char *p = buf + 1; p < end; p++) {
            char *q;
            if (*p != '`' || !(q = memchr(p + 1, '`', (size_t)(end - p - 1))))
                continue;
            doc_add(d, p + 1, (size_t)(q - p - 1), line);
            p = q;
        }
    }
    fclose(f);
    assert_true(d->n > 0);
}

static void test_registry_rows_are_complete(void **state)
{
    (void)state;
    for (int i = 0; i < METRIC_N; i++) {
        const metric_info_t *m = &metric_info[i];
        assert_non_null(m->name);
        if (!m->doc || !m->doc[0])
            fail_msg("%s: no doc line", m->name);
        assert_true(m->unit < METRIC_NUNIT && m->plot < METRIC_NPLOT);
        if (metric_find(m->name) != i)
            fail_msg("%s: registered twice", m->name);
    }
    assert_int_equal(metric_find("no_such_metric"), -1);
}

static void test_registered_metrics_are_documented(void **state)
{
    (void)state;
    doc_names_t d;
    doc_load(&d);
    int missing = 0;
    for (int i = 0; i < METRIC_N; i++) {
        int found = 0;
        for (int k = 0; k < d.n && !found; k++)
            found = strcmp(d.name[k], metric_info[i].name) == 0;
        if (!found) {
            print_error("%s is in sim/metric.h but not in docs/metrics.md\n", metric_info[i].name);
            missing++;
        }
    }
    assert_int_equal(missing, 0);
}

static void test_documented_metrics_are_registered(void **state)
{
    (void)state;
    doc_names_t d;
    doc_load(&d);
    int missing = 0;
    for (int k = 0; k < d.n; k++)
        if (metric_find(d.name[k]) < 0) {
            print_error("docs/metrics.md:%d: %s is not in sim/metric.h\n", d.line[k], d.name[k]);
            missing++;
        }
    assert_int_equal(missing, 0);
}

/* Setting by id is setting by the registered name. */
static void test_set_by_id_uses_the_name(void **state)
{
    (void)state;
    result_t r;
    result_init(&r);
    assert_int_equal(result_set_id(&r, METRIC_LAT_P99, 42.0), 0);
    double v = 0;
    assert_int_equal(result_get(&r, "lat_p99_ns", &v), 0);
    assert_true(v == 42.0);
    assert_int_equal(result_get_id(&r, METRIC_IOPS, &v), -ENOENT);
    result_fini(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_rows_are_complete),
        cmocka_unit_test(test_registered_metrics_are_documented),
        cmocka_unit_test(test_documented_metrics_are_registered),
        cmocka_unit_test(test_set_by_id_uses_the_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

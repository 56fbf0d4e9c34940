/*
 * test_cfg.c - the checked JSON reader (sim/cfg.h): defaults, ranges,
 * types, enums, unknown keys, the "FILE: PATH: expected ..." messages and
 * first-error-wins.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sim/cfg.h"

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j)
        fail_msg("bad test JSON: %s", e.text);
    return j;
}

static void assert_err(const cfg_t *c, const char *want)
{
    assert_false(cfg_ok(c));
    if (strcmp(c->err, want) != 0)
        fail_msg("message\n  got:  %s\n  want: %s", c->err, want);
}

static const char *const modes[] = {"throughput", "latency", "hybrid", NULL};

static void test_defaults(void **st)
{
    (void)st;
    cfg_t c;
    cfg_init(&c, "s.json");
    json_t *o = parse("{}");
    double f;
    int64_t i;
    uint32_t u;
    bool b;
    char *s;
    int e;
    assert_true(cfg_f64(&c, o, "x", &f, 2.5, 0, 10));
    assert_true(cfg_i64(&c, o, "y", &i, -3, -10, 10));
    assert_true(cfg_u32(&c, o, "z", &u, 7, 0, 10));
    assert_true(cfg_bool(&c, o, "b", &b, true));
    assert_true(cfg_str(&c, o, "s", &s, "dflt"));
    assert_true(cfg_enum(&c, o, "m", &e, 1, modes));
    assert_true(f == 2.5 && i == -3 && u == 7 && b && e == 1);
    assert_string_equal(s, "dflt");
    free(s);
    assert_true(cfg_str(&c, o, "s", &s, NULL));
    assert_null(s);
    /* a missing section reads as all defaults */
    assert_null(cfg_take(&c, o, "flash", JSON_OBJECT));
    assert_true(cfg_f64(&c, NULL, "read_us", &f, 60, 0, 1e6));
    assert_true(f == 60);
    assert_true(cfg_done(&c, o));
    assert_true(cfg_done(&c, NULL));
    assert_true(cfg_ok(&c));
    json_decref(o);
}

static void test_values_read_and_consumed(void **st)
{
    (void)st;
    cfg_t c;
    cfg_init(&c, "s.json");
    json_t *o = parse("{\"f\": 3, \"g\": 0.25, \"i\": -10, \"j\": 4.0, \"u\": 4294967295,"
                      " \"b\": false, \"s\": \"hi\", \"m\": \"hybrid\", \"big\": 9007199254740993}");
    double f, g;
    int64_t i, j, big;
    uint32_t u;
    bool b;
    char *s;
    int m;
    assert_true(cfg_f64(&c, o, "f", &f, 0, 3, 3)); /* bounds inclusive; integers are numbers */
    assert_true(cfg_f64(&c, o, "g", &g, 0, 0, 1));
    assert_true(cfg_i64(&c, o, "i", &i, 0, -10, 10));
    assert_true(cfg_i64(&c, o, "j", &j, 0, 0, 10)); /* 4.0 is a whole number */
    assert_true(cfg_u32(&c, o, "u", &u, 0, 0, UINT32_MAX));
    assert_true(cfg_bool(&c, o, "b", &b, true));
    assert_true(cfg_str(&c, o, "s", &s, NULL));
    assert_true(cfg_enum(&c, o, "m", &m, 0, modes));
    assert_true(cfg_i64(&c, o, "big", &big, 0, 0, INT64_MAX)); /* exact beyond 2^53 */
    assert_true(f == 3 && g == 0.25 && i == -10 && j == 4 && u == UINT32_MAX && !b && m == 2);
    assert_true(big == 9007199254740993LL);
    assert_string_equal(s, "hi");
    free(s);
    assert_int_equal(json_object_size(o), 0);
    assert_true(cfg_done(&c, o));
    json_decref(o);
}

/* One bad value in a fresh reader: the read fails, stores the default and
 * leaves exactly this message. */
#define BAD(json, call, want)                                                               \
    do {                                                                                    \
        cfg_t c;                                                                            \
        cfg_init(&c, "f.json");                                                             \
        json_t *o = parse(json);                                                            \
        assert_false(call);                                                                 \
        assert_err(&c, want);                                                               \
        json_decref(o);                                                                     \
    } while (0)

static void test_range_errors(void **st)
{
    (void)st;
    double f = 1;
    int64_t i = 1;
    uint32_t u = 1;
    BAD("{\"x\": 11}", cfg_f64(&c, o, "x", &f, 5, 0, 10),
        "f.json: x: expected a number in [0, 10], got 11");
    assert_true(f == 5);
    BAD("{\"x\": -0.5}", cfg_f64(&c, o, "x", &f, 5, 0, 10),
        "f.json: x: expected a number in [0, 10], got -0.5");
    BAD("{\"n\": 11}", cfg_i64(&c, o, "n", &i, 2, 0, 10),
        "f.json: n: expected an integer in [0, 10], got 11");
    assert_true(i == 2);
    BAD("{\"n\": -1}", cfg_u32(&c, o, "n", &u, 3, 0, 100),
        "f.json: n: expected an integer in [0, 100], got -1");
    assert_true(u == 3);
    BAD("{\"n\": 9223372036854775807}", cfg_i64(&c, o, "n", &i, 0, 0, 1000),
        "f.json: n: expected an integer in [0, 1000], got 9223372036854775807");
    /* a real too large for int64 is a range error, not an overflowing cast */
    BAD("{\"n\": 1e19}", cfg_i64(&c, o, "n", &i, 0, 0, INT64_MAX),
        "f.json: n: expected an integer in [0, 9223372036854775807], got 1e+19");
    BAD("{\"n\": 9223372036854775808.0}", cfg_i64(&c, o, "n", &i, 0, INT64_MIN, INT64_MAX),
        "f.json: n: expected an integer in [-9223372036854775808, 9223372036854775807],"
        " got 9.22337e+18");
}

static void test_type_errors(void **st)
{
    (void)st;
    double f;
    int64_t i;
    bool b;
    char *s;
    BAD("{\"x\": \"60\"}", cfg_f64(&c, o, "x", &f, 0, 0, 100),
        "f.json: x: expected a number in [0, 100], got a string");
    BAD("{\"n\": 2.5}", cfg_i64(&c, o, "n", &i, 0, 0, 10),
        "f.json: n: expected an integer in [0, 10], got a fraction");
    BAD("{\"n\": null}", cfg_i64(&c, o, "n", &i, 0, 0, 10),
        "f.json: n: expected an integer in [0, 10], got null");
    BAD("{\"b\": 1}", cfg_bool(&c, o, "b", &b, false),
        "f.json: b: expected true or false, got an integer");
    BAD("{\"s\": [1]}", cfg_str(&c, o, "s", &s, "d"),
        "f.json: s: expected a string, got an array");
    assert_null(s);
    BAD("{\"d\": 5}", cfg_take(&c, o, "d", JSON_ARRAY) != NULL,
        "f.json: d: expected an array, got an integer");
    BAD("{\"d\": []}", cfg_take(&c, o, "d", JSON_OBJECT) != NULL,
        "f.json: d: expected an object, got an array");
    BAD("[]", cfg_expect(&c, o, JSON_OBJECT), "f.json: (top level): expected an object, got an array");
}

static void test_enum_errors(void **st)
{
    (void)st;
    int e = 9;
    BAD("{\"mode\": \"fast\"}", cfg_enum(&c, o, "mode", &e, 0, modes),
        "f.json: mode: expected one of \"throughput\", \"latency\", \"hybrid\", got \"fast\"");
    assert_int_equal(e, 0);
    BAD("{\"mode\": 1}", cfg_enum(&c, o, "mode", &e, 0, modes),
        "f.json: mode: expected one of \"throughput\", \"latency\", \"hybrid\", got an integer");
    /* case matters */
    BAD("{\"mode\": \"Latency\"}", cfg_enum(&c, o, "mode", &e, 0, modes),
        "f.json: mode: expected one of \"throughput\", \"latency\", \"hybrid\", got \"Latency\"");
}

/* The path of a nested value, built the way a scenario parser walks it. */
static void test_nested_paths_and_unknown_keys(void **st)
{
    (void)st;
    cfg_t c;
    cfg_init(&c, "scen.json");
    json_t *root = parse("{\"devices\": [ {\"flash\": {\"read_us\": 60}},"
                         "               {\"flash\": {\"read_us\": -4}} ]}");
    json_t *devs = cfg_take(&c, root, "devices", JSON_ARRAY);
    assert_non_null(devs);
    size_t m0 = cfg_push(&c, "devices");
    double r[2] = {0, 0};
    for (size_t i = 0; i < json_array_size(devs); i++) {
        size_t m1 = cfg_push_idx(&c, i);
        json_t *d = json_array_get(devs, i);
        assert_true(cfg_expect(&c, d, JSON_OBJECT));
        json_t *fl = cfg_take(&c, d, "flash", JSON_OBJECT);
        size_t m2 = cfg_push(&c, "flash");
        bool ok = cfg_f64(&c, fl, "read_us", &r[i], 60, 0, 1e6);
        assert_true(ok == (i == 0));
        cfg_done(&c, fl);
        cfg_pop(&c, m2);
        json_decref(fl);
        cfg_pop(&c, m1);
    }
    cfg_pop(&c, m0);
    json_decref(devs);
    assert_err(&c, "scen.json: devices.1.flash.read_us: expected a number in [0, 1e+06], got -4");
    assert_true(r[0] == 60 && r[1] == 60);
    assert_int_equal(c.plen, 0);
    assert_string_equal(c.path, "");
    json_decref(root);

    /* a key nobody read */
    cfg_init(&c, "scen.json");
    root = parse("{\"run\": {\"duration_ms\": 5, \"duraton_ms\": 7}}");
    json_t *run = cfg_take(&c, root, "run", JSON_OBJECT);
    size_t m = cfg_push(&c, "run");
    int64_t dur;
    assert_true(cfg_i64(&c, run, "duration_ms", &dur, 1000, 1, 1000000));
    assert_false(cfg_done(&c, run));
    cfg_pop(&c, m);
    assert_err(&c, "scen.json: run.duraton_ms: unknown key");
    assert_true(cfg_done(&c, root) == false); /* still failed */
    json_decref(run);
    json_decref(root);

    /* and one at the top */
    cfg_init(&c, NULL);
    root = parse("{\"nmae\": \"x\"}");
    assert_false(cfg_done(&c, root));
    assert_err(&c, "<scenario>: nmae: unknown key");
    json_decref(root);
}

static void test_first_error_wins(void **st)
{
    (void)st;
    cfg_t c;
    cfg_init(&c, "f.json");
    json_t *o = parse("{\"a\": \"x\", \"b\": -1, \"c\": 5, \"d\": \"s\", \"e\": true}");
    double a;
    int64_t b, cc;
    char *d;
    bool e;
    assert_false(cfg_f64(&c, o, "a", &a, 1, 0, 1));
    const char *first = "f.json: a: expected a number in [0, 1], got a string";
    assert_err(&c, first);
    /* later reads do nothing: no new message, defaults stored, keys untouched */
    assert_false(cfg_i64(&c, o, "b", &b, 42, 0, 10));
    assert_false(cfg_i64(&c, o, "c", &cc, 43, 0, 10)); /* valid, but after a failure */
    assert_false(cfg_str(&c, o, "d", &d, "dflt"));
    assert_false(cfg_bool(&c, o, "e", &e, false));
    assert_null(cfg_take(&c, o, "c", JSON_INTEGER));
    assert_false(cfg_fail(&c, "something else"));
    assert_false(cfg_done(&c, o));
    assert_err(&c, first);
    assert_true(b == 42 && cc == 43 && d == NULL && !e);
    assert_int_equal(json_object_size(o), 4);
    json_decref(o);
}

static void test_fail_formats(void **st)
{
    (void)st;
    cfg_t c;
    cfg_init(&c, "f.json");
    size_t m = cfg_push(&c, "host");
    cfg_fail(&c, "busy_us (%g) exceeds period_us (%g)", 2.0, 1.0);
    cfg_pop(&c, m);
    assert_err(&c, "f.json: host: busy_us (2) exceeds period_us (1)");
}

/* A path longer than the buffer is cut off, never overrun, and pops still
 * return to their marks. */
static void test_long_path(void **st)
{
    (void)st;
    cfg_t c;
    cfg_init(&c, "f.json");
    char key[200];
    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    size_t m0 = cfg_push(&c, "a");
    size_t m1 = cfg_push(&c, key);
    size_t m2 = cfg_push(&c, key); /* overflows */
    size_t m3 = cfg_push(&c, "tail");
    assert_true(c.plen < sizeof(c.path));
    assert_int_equal(strlen(c.path), c.plen);
    cfg_pop(&c, m3);
    cfg_pop(&c, m2);
    assert_int_equal(c.plen, 2 + strlen(key));
    cfg_pop(&c, m1);
    assert_string_equal(c.path, "a");
    size_t m4 = cfg_push(&c, "b");
    assert_string_equal(c.path, "a.b");
    cfg_pop(&c, m4);
    cfg_pop(&c, m0);
    assert_string_equal(c.path, "");
    /* a message at an overlong path still fits the error buffer */
    cfg_push(&c, key);
    cfg_push(&c, key);
    cfg_fail(&c, "expected %s", key);
    assert_true(strncmp(c.err, "f.json: a", 9) == 0 || strncmp(c.err, "f.json: k", 9) == 0);
    assert_true(strlen(c.err) < sizeof(c.err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_values_read_and_consumed),
        cmocka_unit_test(test_range_errors),
        cmocka_unit_test(test_type_errors),
        cmocka_unit_test(test_enum_errors),
        cmocka_unit_test(test_nested_paths_and_unknown_keys),
        cmocka_unit_test(test_first_error_wins),
        cmocka_unit_test(test_fail_formats),
        cmocka_unit_test(test_long_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

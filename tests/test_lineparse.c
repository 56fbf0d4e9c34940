/* test_lineparse.c - the shared line splitter and number parsers (workload/lineparse.h):
 * empty fields kept, too many fields reported, whole-token strict integers that refuse
 * overflow, and exact decimal-to-fixed-point scaling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "workload/lineparse.h"

#include <string.h>

static void test_split_keeps_empty_fields(void **state)
{
    (void)state;
    char line[] = "a,,c,";
    char *f[5];
    assert_int_equal(lp_split(line, ',', f, 5), 4);
    assert_string_equal(f[0], "a");
    assert_string_equal(f[1], "");
    assert_string_equal(f[2], "c");
    assert_string_equal(f[3], "");
}

static void test_split_reports_extra_fields(void **state)
{
    (void)state;
    char line[] = "1,2,3,4";
    char *f[3];
    assert_int_equal(lp_split(line, ',', f, 3), 4);
    assert_string_equal(f[2], "3"); /* cut at the next separator */
}

static void test_u64_is_strict(void **state)
{
    (void)state;
    uint64_t v = 7;
    assert_true(lp_u64("0", &v) && v == 0);
    assert_true(lp_u64("18446744073709551615", &v) && v == UINT64_MAX);
    assert_false(lp_u64("18446744073709551616", &v)); /* overflow is refused, not clamped */
    assert_false(lp_u64("", &v));
    assert_false(lp_u64("-1", &v));
    assert_false(lp_u64("+1", &v));
    assert_false(lp_u64(" 1", &v));
    assert_false(lp_u64("1 ", &v));
    assert_false(lp_u64("1.0", &v));
}

/* The one-pass numeric line takes exactly n plain numbers, and leaves
 * anything else (for lp_words to parse or name) untouched. */
static void test_u64_words_takes_only_plain_numbers(void **state)
{
    (void)state;
    uint64_t v[3] = {0};
    char line[] = " 12\t0  9999999999999999999 ";
    assert_true(lp_u64_words(line, v, 3));
    assert_true(v[0] == 12 && v[1] == 0 && v[2] == 9999999999999999999ULL);
    assert_string_equal(line, " 12\t0  9999999999999999999 "); /* not split */
    assert_false(lp_u64_words("1 2", v, 3));                     /* too few */
    assert_false(lp_u64_words("1 2 3 4", v, 3));                 /* too many */
    assert_false(lp_u64_words("1 2 18446744073709551615", v, 3)); /* 20 digits: the slow path */
    assert_false(lp_u64_words("1 -2 3", v, 3));
    assert_false(lp_u64_words("1 2.5 3", v, 3));
    assert_false(lp_u64_words("# 1 2", v, 3));
    assert_false(lp_u64_words("1 2 3\r", v, 3));
    assert_false(lp_u64_words("", v, 3));
}

static void test_fixed_scales_exactly(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_true(lp_fixed("0.026214", 9, &v));
    assert_int_equal(v, 26214000);
    assert_true(lp_fixed("12", 9, &v));
    assert_int_equal(v, 12000000000ULL);
    assert_true(lp_fixed("1.0000000019", 9, &v)); /* below the unit: truncated */
    assert_int_equal(v, 1000000001);
    assert_true(lp_fixed("18446744073.709551615", 9, &v));
    assert_int_equal(v, UINT64_MAX);
    assert_false(lp_fixed("18446744073.709551616", 9, &v));
    assert_false(lp_fixed(".5", 9, &v));
    assert_false(lp_fixed("5.", 9, &v));
    assert_false(lp_fixed("1e3", 9, &v));
    assert_false(lp_fixed("0.1.2", 9, &v));
    assert_false(lp_fixed("-0.5", 9, &v));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_keeps_empty_fields),
        cmocka_unit_test(test_split_reports_extra_fields),
        cmocka_unit_test(test_u64_is_strict),
        cmocka_unit_test(test_u64_words_takes_only_plain_numbers),
        cmocka_unit_test(test_fixed_scales_exactly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

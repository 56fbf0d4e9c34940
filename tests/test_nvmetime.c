/*
 * test_nvmetime.c - the NVMe device time from recorded nvme tracepoints
 * (calibrate/nvmetime.h): setup -> completion paired by queue and command
 * id in both event formats, reads only, one namespace, not the admin queue.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "calibrate/nvmetime.h"

/* nvmetime_reads of TEXT on nvme0n1 finds exactly the N device times WANT (ns) */
static void check_reads(const char *text, size_t n, const double *want)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    fputs(text, f);
    calstat_vec_t v = {0};
    assert_int_equal(nvmetime_reads(f, "nvme0n1", &v), n);
    assert_int_equal(v.n, n);
    for (size_t i = 0; i < n; i++)
        assert_true(v.v[i] == want[i]);
    calstat_vec_free(&v);
    fclose(f);
}

/* libtraceevent's raw fields, as `latsurf trace record` writes them in the
 * guest: two reads on different queues, interleaved */
static void test_raw_format_pairs_by_qid_and_cid(void **st)
{
    (void)st;
    check_reads(
        " latsurf-124 [000] ..... 4.000001000: nvme_setup_cmd: [FAILED TO PARSE] disk=nvme0n1 "
        "ctrl_id=0 qid=3 opcode=2 flags=0 fctype=1 cid=20928 nsid=1 metadata=0 cdw10=@;\n"
        " latsurf-125 [001] ..... 4.000002000: nvme_setup_cmd: [FAILED TO PARSE] disk=nvme0n1 "
        "ctrl_id=0 qid=2 opcode=2 flags=0 fctype=1 cid=20928 nsid=1 metadata=0 cdw10=@;\n"
        " <idle>-0 [001] d.h1. 4.000009000: nvme_complete_rq: [FAILED TO PARSE] disk=nvme0n1 "
        "ctrl_id=0 qid=2 cid=20928 result=0 retries=0 flags=0 status=0\n"
        " latsurf-124 [000] ..... 4.000051000: nvme_complete_rq: [FAILED TO PARSE] "
        "disk=nvme0n1 ctrl_id=0 qid=3 cid=20928 result=0 retries=0 flags=0 status=0\n",
        2, (const double[]){7000.0, 50000.0}); /* qid 2 completes first */
}

/* the kernel's own format (a trace read from /sys/kernel/tracing/trace) */
static void test_kernel_format(void **st)
{
    (void)st;
    check_reads(
        " fio-1 [000] ..... 10.500000000: nvme_setup_cmd: nvme0: disk=nvme0n1, qid=1, "
        "cmdid=77, nsid=1, flags=0x0, meta=0x0, cmd=(nvme_cmd_read slba=8, len=7, ctrl=0x0)\n"
        " <idle>-0 [000] d.h1. 10.500080000: nvme_complete_rq: nvme0: disk=nvme0n1, qid=1, "
        "cmdid=77, res=0x0, retries=0, flags=0x0, status=0x0\n",
        1, (const double[]){80000.0});
}

/* writes (opcode 1), another namespace and the admin queue are not reads of
 * this disk */
static void test_only_reads_of_the_disk(void **st)
{
    (void)st;
    check_reads(
        " a-1 [000] ..... 1.000000000: nvme_setup_cmd: disk=nvme0n1 ctrl_id=0 qid=1 opcode=1 "
        "cid=5 nsid=1\n"
        " a-1 [000] ..... 1.000001000: nvme_complete_rq: disk=nvme0n1 ctrl_id=0 qid=1 cid=5 "
        "result=0\n"
        " a-1 [000] ..... 1.000002000: nvme_setup_cmd: disk=nvme0n10 ctrl_id=0 qid=1 opcode=2 "
        "cid=6 nsid=10\n"
        " a-1 [000] ..... 1.000003000: nvme_complete_rq: disk=nvme0n10 ctrl_id=0 qid=1 cid=6 "
        "result=0\n"
        " a-1 [000] ..... 1.000004000: nvme_setup_cmd: disk=nvme0n1 ctrl_id=0 qid=0 opcode=2 "
        "cid=7 nsid=1\n"
        " a-1 [000] ..... 1.000005000: nvme_complete_rq: disk=nvme0n1 ctrl_id=0 qid=0 cid=7 "
        "result=0\n",
        0, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw_format_pairs_by_qid_and_cid),
        cmocka_unit_test(test_kernel_format),
        cmocka_unit_test(test_only_reads_of_the_disk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

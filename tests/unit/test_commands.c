/*
 * tests/unit/test_commands.c - the command layer without a network: the
 * table, lookup, key positions, number parsing, the error funnel and the
 * reply slots that keep pipeline order.
 */
#include <check.h>
#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "conn.h"
#include "coord.h"
#include "reply.h"
#include "resp.h"
#include "ring.h"
#include "scan.h"
#include "util.h"
#include "worker.h"

START_TEST(table_is_well_formed)
{
    const struct cmd_def *t = cmd_table();

    ck_assert_uint_gt(cmd_count(), 50);
    for (size_t i = 0; i < cmd_count(); i++) {
        ck_assert(t[i].fn != NULL);
        ck_assert_int_ne(t[i].arity, 0);
        for (const char *p = t[i].name; *p != '\0'; p++) {
            ck_assert(islower((unsigned char)*p));
        }
        /* A command with keys has a step; one without has none. */
        ck_assert_int_eq(t[i].first_key > 0, t[i].key_step > 0);
        ck_assert_ptr_eq(cmd_lookup(t[i].name, strlen(t[i].name)), &t[i]);
    }
}
END_TEST

START_TEST(lookup_ignores_case)
{
    ck_assert_ptr_nonnull(cmd_lookup("GeT", 3));
    ck_assert_str_eq(cmd_lookup("INCRBYFLOAT", 11)->name, "incrbyfloat");
    ck_assert_ptr_null(cmd_lookup("gets", 4));
    ck_assert_ptr_null(cmd_lookup("ge", 2));
    ck_assert_ptr_null(cmd_lookup("", 0));
    ck_assert_ptr_null(cmd_lookup("get\0", 4));
}
END_TEST

START_TEST(key_positions)
{
    int idx[16];

    ck_assert_int_eq(cmd_key_indexes(cmd_lookup("get", 3), 2, idx, 16), 1);
    ck_assert_int_eq(idx[0], 1);
    ck_assert_int_eq(cmd_key_indexes(cmd_lookup("mset", 4), 7, idx, 16), 3);
    ck_assert_int_eq(idx[0], 1);
    ck_assert_int_eq(idx[1], 3);
    ck_assert_int_eq(idx[2], 5);
    ck_assert_int_eq(cmd_key_indexes(cmd_lookup("del", 3), 4, idx, 16), 3);
    ck_assert_int_eq(cmd_key_indexes(cmd_lookup("rename", 6), 3, idx, 16),
                     2);
    ck_assert_int_eq(cmd_key_indexes(cmd_lookup("ping", 4), 1, idx, 16), 0);
    ck_assert_int_eq(cmd_key_indexes(cmd_lookup("del", 3), 40, idx, 16), 16);
}
END_TEST

START_TEST(str2ll_is_strict)
{
    long long v;

    ck_assert(srv_str2ll("0", 1, &v) && v == 0);
    ck_assert(srv_str2ll("-1", 2, &v) && v == -1);
    ck_assert(srv_str2ll("9223372036854775807", 19, &v) && v == LLONG_MAX);
    ck_assert(srv_str2ll("-9223372036854775808", 20, &v) && v == LLONG_MIN);
    ck_assert(!srv_str2ll("9223372036854775808", 19, &v));
    ck_assert(!srv_str2ll("-9223372036854775809", 20, &v));
    ck_assert(!srv_str2ll("01", 2, &v));
    ck_assert(!srv_str2ll("+1", 2, &v));
    ck_assert(!srv_str2ll(" 1", 2, &v));
    ck_assert(!srv_str2ll("1 ", 2, &v));
    ck_assert(!srv_str2ll("-", 1, &v));
    ck_assert(!srv_str2ll("-0", 2, &v));
    ck_assert(!srv_str2ll("", 0, &v));
    ck_assert(!srv_str2ll("1\0", 2, &v));
}
END_TEST

START_TEST(str2ld_refuses_junk)
{
    long double v;

    ck_assert(srv_str2ld("1.5", 3, &v) && v == 1.5L);
    ck_assert(srv_str2ld("-3e2", 4, &v) && v == -300.0L);
    ck_assert(!srv_str2ld(" 1", 2, &v));
    ck_assert(!srv_str2ld("1x", 2, &v));
    ck_assert(!srv_str2ld("nan", 3, &v));
    ck_assert(!srv_str2ld("", 0, &v));
}
END_TEST

START_TEST(error_funnel_adds_code_and_strips_newlines)
{
    struct resp_buf out;
    struct cmd_ctx x;

    resp_buf_init(&out);
    memset(&x, 0, sizeof(x));
    x.out = &out;
    reply_error(&x, "bad\r\nthing");
    ck_assert(x.failed);
    reply_error(&x, "-WRONGTYPE Operation against a key");
    reply_errorf(&x, "n=%d", 5);
    ck_assert_uint_eq(out.len, strlen("-ERR bad  thing\r\n"
                                      "-WRONGTYPE Operation against a key\r\n"
                                      "-ERR n=5\r\n"));
    ck_assert(memcmp(out.ptr, "-ERR bad  thing\r\n"
                     "-WRONGTYPE Operation against a key\r\n-ERR n=5\r\n",
                     out.len) == 0);
    resp_buf_deinit(&out);
}
END_TEST

START_TEST(reply_slots_keep_pipeline_order)
{
    struct worker w;
    struct conn c;
    struct conn_slot *a;
    struct conn_slot *b;

    memset(&w, 0, sizeof(w));
    memset(&c, 0, sizeof(c));
    c.w = &w;
    resp_buf_init(&c.out);
    a = conn_slot_open(&c);
    b = conn_slot_open(&c);
    resp_add_status(&b->buf, "second");
    conn_slot_done(&c, b);
    /* The later reply waits for the earlier one. */
    ck_assert_uint_eq(c.out.len, 0);
    resp_add_status(&a->buf, "first");
    conn_slot_done(&c, a);
    ck_assert_uint_eq(c.out.len, strlen("+first\r\n+second\r\n"));
    ck_assert(memcmp(c.out.ptr, "+first\r\n+second\r\n", c.out.len) == 0);
    ck_assert_ptr_null(c.slots);
    ck_assert_ptr_eq(w.pending_write, &c);
    resp_buf_deinit(&c.out);
}
END_TEST

START_TEST(consistency_levels)
{
    int l = 0;
    char name[16];

    ck_assert_int_eq(coord_level_parse("one", 3, &l), RK_OK);
    ck_assert_int_eq(l, COORD_ONE);
    ck_assert_int_eq(coord_level_parse("Quorum", 6, &l), RK_OK);
    ck_assert_int_eq(l, COORD_QUORUM);
    ck_assert_int_eq(coord_level_parse("ALL", 3, &l), RK_OK);
    ck_assert_int_eq(l, COORD_ALL);
    ck_assert_int_eq(coord_level_parse("2", 1, &l), RK_OK);
    ck_assert_int_eq(l, 2);
    ck_assert_int_eq(coord_level_parse("0", 1, &l), RK_ERR);
    ck_assert_int_eq(coord_level_parse("-1", 2, &l), RK_ERR);
    ck_assert_int_eq(coord_level_parse("+1", 2, &l), RK_ERR);
    ck_assert_int_eq(coord_level_parse("65", 2, &l), RK_ERR);
    ck_assert_int_eq(coord_level_parse("", 0, &l), RK_ERR);
    ck_assert_int_eq(coord_level_parse("quorumx", 7, &l), RK_ERR);

    /* Counted against N_eff; a count above it means all. */
    ck_assert_uint_eq(coord_level_count(COORD_ONE, 3), 1);
    ck_assert_uint_eq(coord_level_count(COORD_QUORUM, 3), 2);
    ck_assert_uint_eq(coord_level_count(COORD_QUORUM, 5), 3);
    ck_assert_uint_eq(coord_level_count(COORD_QUORUM, 1), 1);
    ck_assert_uint_eq(coord_level_count(COORD_ALL, 5), 5);
    ck_assert_uint_eq(coord_level_count(2, 3), 2);
    ck_assert_uint_eq(coord_level_count(3, 1), 1);

    coord_level_name(COORD_QUORUM, name, sizeof(name));
    ck_assert_str_eq(name, "QUORUM");
    coord_level_name(4, name, sizeof(name));
    ck_assert_str_eq(name, "4");
}
END_TEST

START_TEST(scan_cursor_parsing)
{
    uint64_t v;

    /* Redis parses cursors with strtoul: sign allowed, "" is 0. */
    ck_assert(srv_scan_parse_cursor("0", 1, &v) && v == 0);
    ck_assert(srv_scan_parse_cursor("", 0, &v) && v == 0);
    ck_assert(srv_scan_parse_cursor("+0", 2, &v) && v == 0);
    ck_assert(srv_scan_parse_cursor("18446744073709551615", 20, &v) &&
              v == UINT64_MAX);
    ck_assert(!srv_scan_parse_cursor("18446744073709551616", 20, &v));
    ck_assert(!srv_scan_parse_cursor("12x", 3, &v));
    ck_assert(!srv_scan_parse_cursor(" 1", 2, &v));
}
END_TEST

START_TEST(scan_pattern_pins_hash_tag_slot)
{
    /* A literal {tag} before any glob character pins the slot. */
    ck_assert_int_eq(srv_scan_pattern_slot("{user1}:*", 9),
                     ring_key_slot("user1", 5));
    ck_assert_int_eq(srv_scan_pattern_slot("a{b}c?", 6),
                     ring_key_slot("b", 1));
    /* A glob before the tag, an empty tag, or no tag: any slot. */
    ck_assert_int_eq(srv_scan_pattern_slot("*{user1}", 8), -1);
    ck_assert_int_eq(srv_scan_pattern_slot("{}x", 3), -1);
    ck_assert_int_eq(srv_scan_pattern_slot("user*", 5), -1);
    ck_assert_int_eq(srv_scan_pattern_slot("{us?r}", 6), -1);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("commands");
    TCase *tc = tcase_create("table");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, table_is_well_formed);
    tcase_add_test(tc, lookup_ignores_case);
    tcase_add_test(tc, key_positions);
    tcase_add_test(tc, str2ll_is_strict);
    tcase_add_test(tc, str2ld_refuses_junk);
    tcase_add_test(tc, error_funnel_adds_code_and_strips_newlines);
    tcase_add_test(tc, reply_slots_keep_pipeline_order);
    tcase_add_test(tc, consistency_levels);
    tcase_add_test(tc, scan_cursor_parsing);
    tcase_add_test(tc, scan_pattern_pins_hash_tag_slot);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

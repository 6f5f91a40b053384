/*
 * tests/unit/test_ring.c - key to slot mapping, pinned to Redis Cluster's
 * published values.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"

static uint16_t
slot_of(const char *k)
{
    return ring_key_slot(k, strlen(k));
}

START_TEST(crc16_check_value)
{
    /* The CRC16/XMODEM check value. */
    ck_assert_uint_eq(ring_crc16("123456789", 9), 0x31C3);
    ck_assert_uint_eq(ring_crc16("", 0), 0);
}
END_TEST

START_TEST(slots_match_redis_cluster)
{
    /* Values from the Redis CLUSTER KEYSLOT documentation. */
    ck_assert_uint_eq(slot_of("somekey"), 11058);
    ck_assert_uint_eq(slot_of("foo{hash_tag}"), 2515);
    ck_assert_uint_eq(slot_of("foo"), 12182);
}
END_TEST

START_TEST(hash_tags)
{
    ck_assert_uint_eq(slot_of("{user1000}.following"),
                      slot_of("{user1000}.followers"));
    ck_assert_uint_eq(slot_of("{user1000}.following"), slot_of("user1000"));
    /* Only the first '{' counts; the tag ends at the first '}' after it. */
    ck_assert_uint_eq(slot_of("foo{{bar}}zap"), slot_of("{bar"));
    ck_assert_uint_eq(slot_of("foo{bar}{zap}"), slot_of("bar"));
    /* An empty tag hashes the whole key. */
    ck_assert_uint_eq(slot_of("foo{}{bar}"),
                      ring_crc16("foo{}{bar}", 10) & 16383);
    /* No closing brace: the whole key. */
    ck_assert_uint_eq(slot_of("foo{bar"), ring_crc16("foo{bar", 7) & 16383);
}
END_TEST

START_TEST(binary_keys)
{
    const char k[] = {'a', '\0', 'b'};

    ck_assert_uint_lt(ring_key_slot(k, sizeof(k)), RING_SLOTS);
    ck_assert_uint_ne(ring_key_slot(k, sizeof(k)), ring_key_slot(k, 1));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("ring");
    TCase *tc = tcase_create("slots");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, crc16_check_value);
    tcase_add_test(tc, slots_match_redis_cluster);
    tcase_add_test(tc, hash_tags);
    tcase_add_test(tc, binary_keys);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

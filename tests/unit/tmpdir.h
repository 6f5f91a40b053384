/*
 * tests/unit/tmpdir.h - temporary directories for the storage suites.
 */
#ifndef TESTS_UNIT_TMPDIR_H
#define TESTS_UNIT_TMPDIR_H

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int
tmpdir_rm_one(const char *path, const struct stat *st, int flag,
              struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* A new directory /tmp/ringkv-<name>-XXXXXX; free with tmp_dir_remove(). */
static inline char *
tmp_dir_named(const char *name)
{
    char *d = malloc(strlen(name) + 32);

    ck_assert_ptr_nonnull(d);
    sprintf(d, "/tmp/ringkv-%s-XXXXXX", name);
    ck_assert_ptr_nonnull(mkdtemp(d));
    return d;
}

/* Remove d and everything in it, and free the name. */
static inline void
tmp_dir_remove(char *d)
{
    nftw(d, tmpdir_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(d);
}

#endif /* TESTS_UNIT_TMPDIR_H */

/*
 * test_layers.c - the folders are layers, and every `#include "..."` in the
 * tree follows the allowed edges between them: a file includes headers of
 * its own folder and of the folders its row below lists, nothing else. So
 * nothing outside cli/ includes a cli/ header, and sim/ and policies/
 * include nothing of the other layers (policies/ not even a system library:
 * test_policy.c). One test per folder; a folder with sources but no row
 * fails, and docs/design.md ("Layers") must state the same table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    const char *dir;
    const char *may_include; /* folders besides its own, space-separated */
} layer_t;

/* Lowest first: a row lists only folders above it, so the edges have no cycle. */
static const layer_t layers[] = {
    {"sim", ""},
    {"policies", ""},
    {"models", "sim policies"},
    {"workload", "sim policies models"},
    {"calibrate", "sim"},
    {"reports", "sim policies"},
    {"live", "sim policies models calibrate"},
    {"run", "sim policies models workload calibrate reports live"},
    {"sweep", "sim policies models workload reports run"},
    {"cli", "sim policies models workload calibrate reports live run sweep"},
    {"fuzz", "sim policies models workload calibrate reports live run sweep"},
    {"tests", "sim policies models workload calibrate reports live run sweep fuzz"},
    {"bench", "sim policies models workload"},
};
#define NLAYERS (sizeof(layers) / sizeof(layers[0]))

/* out = a/b (or a/b/c); a path too long for out fails the test. */
static void join(char *out, size_t n, const char *a, const char *b, const char *c)
{
    int len = c ? snprintf(out, n, "%s/%s/%s", a, b, c) : snprintf(out, n, "%s/%s", a, b);
    if (len < 0 || (size_t)len >= n)
        fail_msg("path too long: %s/%s%s%s", a, b, c ? "/" : "", c ? c : "");
}

static const char *src_dir(void)
{
    const char *s = getenv("LATSURF_SRC");
    return s ? s : LATSURF_SOURCE_DIR;
}

static const layer_t *layer_find(const char *dir)
{
    for (size_t i = 0; i < NLAYERS; i++)
        if (strcmp(layers[i].dir, dir) == 0)
            return &layers[i];
    return NULL;
}

static bool word_in(const char *list, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = list; (p = strstr(p, w)); p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return true;
    return false;
}

static bool is_source(const char *name)
{
    size_t len = strlen(name);
    return len > 2 && name[len - 2] == '.' && (name[len - 1] == 'c' || name[len - 1] == 'h');
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Check every quoted include of one file of layer l (path relative to the
 * source root, in folder `here`); returns the number of includes seen. */
static int check_file(const layer_t *l, const char *root, const char *rel, const char *here)
{
    char path[4096], line[1024];
    join(path, sizeof(path), root, rel, NULL);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("%s: cannot read", rel);
    int n = 0;
    while (fgets(line, sizeof(line), f)) {
        char name[512];
        if (sscanf(line, " # include \"%511[^\"]\"", name) != 1)
            continue;
        n++;
        char *slash = strchr(name, '/');
        if (!slash) { /* a neighbour: must be in the same directory */
            char local[4096];
            join(local, sizeof(local), root, here, name);
            if (!file_exists(local))
                fail_msg("%s includes \"%s\", which is not in %s/", rel, name, here);
            continue;
        }
        *slash = '\0';
        if (strcmp(name, l->dir) == 0)
            continue;
        if (!layer_find(name))
            fail_msg("%s includes \"%s/%s\": %s/ is no layer of the table", rel, name, slash + 1,
                     name);
        if (!word_in(l->may_include, name))
            fail_msg("%s includes \"%s/%s\": %s/ may include only its own headers%s%s", rel, name,
                     slash + 1, l->dir, l->may_include[0] ? " and those of " : "",
                     l->may_include);
    }
    fclose(f);
    return n;
}

/* Every source file under root/dir, recursively. */
static int check_tree(const layer_t *l, const char *root, const char *dir, int *files)
{
    char path[4096];
    join(path, sizeof(path), root, dir, NULL);
    DIR *d = opendir(path);
    if (!d)
        fail_msg("%s/: cannot open", dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char rel[4096], full[4096];
        join(rel, sizeof(rel), dir, e->d_name, NULL);
        join(full, sizeof(full), root, rel, NULL);
        struct stat st;
        if (stat(full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            n += check_tree(l, root, rel, files);
        else if (S_ISREG(st.st_mode) && is_source(e->d_name)) {
            n += check_file(l, root, rel, dir);
            (*files)++;
        }
    }
    closedir(d);
    return n;
}

static void test_layer_includes(void **state)
{
    const layer_t *l = *state;
    int files = 0;
    int n = check_tree(l, src_dir(), l->dir, &files);
    assert_true(files > 0);
    if (strcmp(l->dir, "policies") != 0 && strcmp(l->dir, "sim") != 0)
        assert_true(n > 0); /* the scan saw the includes it audits */
}

/* A build directory (CMakeCache.txt) is no layer. */
static bool is_build_dir(const char *root, const char *name)
{
    char p[4096];
    join(p, sizeof(p), root, name, "CMakeCache.txt");
    return file_exists(p);
}

/* Every top-level folder with C sources has a row. */
static void test_every_folder_has_a_row(void **state)
{
    (void)state;
    const char *root = src_dir();
    DIR *d = opendir(root);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || layer_find(e->d_name) || is_build_dir(root, e->d_name))
            continue;
        char p[4096];
        join(p, sizeof(p), root, e->d_name, NULL);
        DIR *sub = opendir(p);
        if (!sub)
            continue;
        struct dirent *f;
        while ((f = readdir(sub)))
            if (is_source(f->d_name))
                fail_msg("%s/ holds C sources (%s) but has no row in the layer table: add its "
                         "allowed includes here and in docs/design.md",
                         e->d_name, f->d_name);
        closedir(sub);
    }
    closedir(d);
}

/* docs/design.md's "Layers" table states the same edges. */
static void test_design_doc_states_the_table(void **state)
{
    (void)state;
    char path[4096], line[1024];
    join(path, sizeof(path), src_dir(), "docs", "design.md");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    bool in = false;
    size_t rows = 0;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "## ", 3) == 0) {
            in = strncmp(line, "## Layers", 9) == 0;
            continue;
        }
        char dir[64];
        if (!in || sscanf(line, "| `%63[a-z]/` |", dir) != 1)
            continue;
        const layer_t *l = layer_find(dir);
        if (!l)
            fail_msg("docs/design.md: %s/ has a row there but not in tests/test_layers.c", dir);
        rows++;
        /* the second cell: every `name/` in it, and nothing else */
        char *cell = strchr(line + 1, '|'); /* the bar before the second cell */
        assert_non_null(cell);
        char *end = strchr(cell + 1, '|');
        if (end)
            *end = '\0';
        char seen[512] = "";
        for (char *p = strchr(cell, '`'), *q; p && (q = strchr(p + 1, '`')); p = strchr(q + 1, '`')) {
            size_t n = (size_t)(q - p - 1);
            if (n < 2 || n > 63 || q[-1] != '/')
                continue; /* not a folder name */
            char w[64];
            snprintf(w, sizeof(w), "%.*s", (int)(n - 1), p + 1);
            if (!word_in(l->may_include, w))
                fail_msg("docs/design.md: %s/ may include %s/, the test says not", dir, w);
            size_t len = strlen(seen);
            snprintf(seen + len, sizeof(seen) - len, "%s%s", len ? " " : "", w);
        }
        char copy[512];
        snprintf(copy, sizeof(copy), "%s", l->may_include);
        for (char *w = strtok(copy, " "); w; w = strtok(NULL, " "))
            if (!word_in(seen, w))
                fail_msg("docs/design.md: the row of %s/ does not list %s/", dir, w);
    }
    fclose(f);
    assert_int_equal(rows, NLAYERS);
}

int main(void)
{
    struct CMUnitTest tests[NLAYERS + 2];
    char names[NLAYERS][64];
    for (size_t i = 0; i < NLAYERS; i++) {
        snprintf(names[i], sizeof(names[i]), "includes of %s/", layers[i].dir);
        tests[i] = (struct CMUnitTest){.name = names[i], .test_func = test_layer_includes,
                                       .initial_state = (void *)&layers[i]};
    }
    tests[NLAYERS] = (struct CMUnitTest)cmocka_unit_test(test_every_folder_has_a_row);
    tests[NLAYERS + 1] = (struct CMUnitTest)cmocka_unit_test(test_design_doc_states_the_table);
    return _cmocka_run_group_tests("test_layers", tests, NLAYERS + 2, NULL, NULL);
}

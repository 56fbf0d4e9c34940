/*
 * sweep.c - see sweep.h.
 */
#include "sweep.h"

#include "run/runner.h"
#include "sim/vec.h"

#include <errno.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int sweep_errf(char *err, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int sweep_errf(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

void sweep_grid_free(sweep_grid_t *g)
{
    for (size_t i = 0; i < g->nval; i++)
        free(g->val[i]);
    free(g->val);
    free(g->key);
    free(g->arg);
    memset(g, 0, sizeof(*g));
}

int sweep_grid_parse(const char *arg, sweep_grid_t *g, char *err, size_t errlen)
{
    memset(g, 0, sizeof(*g));
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return sweep_errf(err, errlen, "--grid %s: expected KEY=V1,V2,...", arg);
    g->arg = strdup(arg);
    g->key = strndup(arg, (size_t)(eq - arg));
    g->val = calloc(strlen(eq) + 1, sizeof(char *)); /* at most one value per byte */
    if (!g->arg || !g->key || !g->val) {
        sweep_grid_free(g);
        return -ENOMEM;
    }
    /* A comma inside [..], {..} or "..." belongs to a JSON value. */
    int depth = 0, quoted = 0;
    const char *start = eq + 1;
    for (const char *c = start;; c++) {
        if (quoted) {
            if (*c == '\\' && c[1])
                c++;
            else if (*c == '"')
                quoted = 0;
            if (*c)
                continue;
        }
        if (*c == '"')
            quoted = 1;
        else if (*c == '[' || *c == '{')
            depth++;
        else if ((*c == ']' || *c == '}') && depth > 0)
            depth--;
        else if ((*c == ',' && depth == 0) || *c == '\0') {
            if (c == start) {
                int rc = sweep_errf(err, errlen, "--grid %s: empty value at position %zu", arg,
                                    g->nval + 1);
                sweep_grid_free(g);
                return rc;
            }
            if (!(g->val[g->nval++] = strndup(start, (size_t)(c - start)))) {
                sweep_grid_free(g);
                return -ENOMEM;
            }
            start = c + 1;
        }
        if (*c == '\0')
            break;
    }
    return 0;
}

/* FNV-1a, 64 bits: a short, stable name for a scenario text in task keys. */
static uint64_t sweep_fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

/* The hash leaves run.replications out, so asking for more replications
 * later reuses the ones already in the database. */
static int sweep_point_hash(const scn_t *s, char out[17])
{
    json_t *root = json_loads(s->json, 0, NULL);
    if (!root)
        return -ENOMEM;
    json_t *run = json_object_get(root, "run");
    if (json_is_object(run))
        json_object_del(run, "replications");
    char *text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(root);
    if (!text)
        return -ENOMEM;
    snprintf(out, 17, "%016llx", (unsigned long long)sweep_fnv1a(text));
    free(text);
    return 0;
}

void sweep_plan_free(sweep_plan_t *p)
{
    for (size_t i = 0; i < p->ngrid; i++)
        sweep_grid_free(&p->grid[i]);
    for (size_t i = 0; i < p->npoint; i++) {
        free(p->point[i].name);
        free(p->point[i].label);
        scn_free(p->point[i].scn);
    }
    for (size_t i = 0; i < p->ntask; i++)
        free(p->task[i].key);
    free(p->grid);
    free(p->point);
    free(p->task);
    memset(p, 0, sizeof(*p));
}

/* Load point `pi`: the sets, then one value of each grid; the last grid
 * varies fastest, like nested loops in the order given. */
static int sweep_load_point(sweep_plan_t *p, size_t pi, const char *file, char *const *sets,
                            size_t nsets, char *err, size_t errlen)
{
    sweep_point_t *pt = &p->point[pi];
    size_t n = nsets + p->ngrid, labellen = 1;
    char **all = calloc(n + 1, sizeof(char *));
    if (!all)
        return -ENOMEM;
    if (nsets)
        memcpy(all, sets, nsets * sizeof(char *));
    int rc = 0;
    size_t rest = pi;
    for (size_t g = p->ngrid; g-- > 0 && rc == 0;) {
        const sweep_grid_t *gr = &p->grid[g];
        const char *v = gr->val[rest % gr->nval];
        rest /= gr->nval;
        size_t len = strlen(gr->key) + strlen(v) + 2;
        labellen += len;
        if (!(all[nsets + g] = malloc(len)))
            rc = -ENOMEM;
        else
            snprintf(all[nsets + g], len, "%s=%s", gr->key, v);
    }
    if (rc == 0 && !(pt->label = calloc(1, labellen)))
        rc = -ENOMEM;
    for (size_t g = 0; g < p->ngrid && rc == 0; g++) {
        if (g)
            strcat(pt->label, ",");
        strcat(pt->label, all[nsets + g]);
    }
    char e2[1024] = "";
    if (rc == 0)
        rc = scn_load(file, all, n, &pt->scn, e2, sizeof(e2));
    if (rc == -EINVAL || rc == -ENOENT) {
        /* each value loaded alone (sweep_check_grids): a combination failed */
        rc = sweep_errf(err, errlen, "--grid point %s: %s", pt->label, e2);
    } else if (rc == 0 && (rc = sweep_point_hash(pt->scn, pt->hash)) == 0) {
        size_t len = strlen(pt->scn->name) + labellen + 3;
        if (!(pt->name = malloc(len)))
            rc = -ENOMEM;
        else if (p->ngrid)
            snprintf(pt->name, len, "%s[%s]", pt->scn->name, pt->label);
        else
            snprintf(pt->name, len, "%s", pt->scn->name);
    }
    for (size_t g = 0; g < p->ngrid; g++)
        free(all[nsets + g]);
    free(all);
    return rc;
}

/* The base scenario, then every grid value on its own, so a bad one is
 * reported against its --grid rather than against some point. */
static int sweep_check_grids(const sweep_plan_t *p, const char *file, char *const *sets,
                             size_t nsets, char *err, size_t errlen)
{
    char **all = calloc(nsets + 1, sizeof(char *));
    if (!all)
        return -ENOMEM;
    if (nsets)
        memcpy(all, sets, nsets * sizeof(char *));
    scn_t *s = NULL;
    char e2[1024] = "";
    int rc = scn_load(file, all, nsets, &s, e2, sizeof(e2));
    scn_free(s);
    if (rc)
        snprintf(err, errlen, "%s", e2);
    for (size_t g = 0; g < p->ngrid && rc == 0; g++) {
        for (size_t v = 0; v < p->grid[g].nval && rc == 0; v++) {
            size_t len = strlen(p->grid[g].key) + strlen(p->grid[g].val[v]) + 2;
            char *assign = malloc(len);
            if (!assign) {
                rc = -ENOMEM;
                break;
            }
            snprintf(assign, len, "%s=%s", p->grid[g].key, p->grid[g].val[v]);
            all[nsets] = assign;
            s = NULL;
            rc = scn_load(file, all, nsets + 1, &s, e2, sizeof(e2));
            scn_free(s);
            if (rc == -EINVAL)
                sweep_errf(err, errlen, "--grid %s: value '%s': %s", p->grid[g].arg,
                           p->grid[g].val[v], e2);
            else if (rc)
                snprintf(err, errlen, "%s", e2);
            free(assign);
        }
    }
    free(all);
    return rc;
}

static int sweep_add_tasks(sweep_plan_t *p, size_t pi, char *err, size_t errlen)
{
    const sweep_point_t *pt = &p->point[pi];
    const scn_t *s = pt->scn;
    size_t add = (size_t)s->nvar * s->run.replications;
    if (p->ntask + add > SWEEP_MAX_TASKS)
        return sweep_errf(err, errlen, "--grid: more than %u tasks (points x variants x "
                          "replications)", SWEEP_MAX_TASKS);
    if (VEC_RESIZE(p->task, p->ntask + add) != 0)
        return -ENOMEM;
    for (uint32_t rep = 0; rep < s->run.replications; rep++) {
        for (uint32_t v = 0; v < s->nvar; v++) {
            sweep_task_t *k = &p->task[p->ntask];
            k->point = (uint32_t)pi;
            k->variant = v;
            k->rep = rep;
            size_t len = strlen(pt->hash) + strlen(pt->label) + strlen(s->var[v].pol.name) + 16;
            if (!(k->key = malloc(len)))
                return -ENOMEM;
            snprintf(k->key, len, "%s|%s|%s|%u", pt->hash, pt->label, s->var[v].pol.name, rep);
            p->ntask++;
        }
    }
    return 0;
}

int sweep_plan_load(sweep_plan_t *p, const char *file, char *const *sets, size_t nsets,
                    char *const *grids, size_t ngrid, char *err, size_t errlen)
{
    memset(p, 0, sizeof(*p));
    int rc = 0;
    size_t npoint = 1;
    if (ngrid && !(p->grid = calloc(ngrid, sizeof(*p->grid))))
        return -ENOMEM;
    for (size_t g = 0; g < ngrid && rc == 0; g++) {
        rc = sweep_grid_parse(grids[g], &p->grid[g], err, errlen);
        if (rc)
            break;
        p->ngrid++;
        for (size_t h = 0; h < g; h++)
            if (strcmp(p->grid[h].key, p->grid[g].key) == 0)
                rc = sweep_errf(err, errlen, "--grid %s: key '%s' is already swept by --grid %s",
                                grids[g], p->grid[g].key, grids[h]);
        npoint *= p->grid[g].nval;
        if (rc == 0 && npoint > SWEEP_MAX_POINTS)
            rc = sweep_errf(err, errlen, "--grid %s: more than %u points in all", grids[g],
                            SWEEP_MAX_POINTS);
    }
    if (rc == 0)
        rc = sweep_check_grids(p, file, sets, nsets, err, errlen);
    if (rc == 0 && !(p->point = calloc(npoint, sizeof(*p->point))))
        rc = -ENOMEM;
    for (size_t i = 0; i < npoint && rc == 0; i++) {
        p->npoint++;
        rc = sweep_load_point(p, i, file, sets, nsets, err, errlen);
        if (rc == 0)
            rc = sweep_add_tasks(p, i, err, errlen);
    }
    if (rc)
        sweep_plan_free(p);
    return rc;
}

int sweep_pending(sqlite3 *db, const sweep_plan_t *p, uint32_t **todo, size_t *ntodo, char **err)
{
    *err = NULL;
    *ntodo = 0;
    if (!(*todo = malloc((p->ntask ? p->ntask : 1) * sizeof(**todo)))) {
        *err = sqlite3_mprintf("out of memory");
        return -1;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM runs WHERE task_key = ? LIMIT 1", -1, &st, NULL) !=
        SQLITE_OK) {
        *err = sqlite3_mprintf("%s", sqlite3_errmsg(db));
        free(*todo);
        *todo = NULL;
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < p->ntask; i++) {
        sqlite3_bind_text(st, 1, p->task[i].key, -1, SQLITE_STATIC);
        int r = sqlite3_step(st);
        if (r == SQLITE_DONE) {
            (*todo)[(*ntodo)++] = (uint32_t)i;
        } else if (r != SQLITE_ROW) {
            *err = sqlite3_mprintf("%s", sqlite3_errmsg(db));
            rc = -1;
            break;
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (rc) {
        free(*todo);
        *todo = NULL;
    }
    return rc;
}

int sweep_run_task(const sweep_plan_t *p, uint32_t t, const volatile sig_atomic_t *stop,
                   result_t *out, char *err, size_t errlen)
{
    if (t >= p->ntask)
        return -ERANGE;
    const sweep_task_t *k = &p->task[t];
    return runner_run(p->point[k->point].scn, k->variant, k->rep, stop, out, err, errlen);
}

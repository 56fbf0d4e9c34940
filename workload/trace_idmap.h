/*
 * trace_idmap.h - a fixed-capacity map from 64-bit keys to 32-bit values
 * (open addressing, linear probing, backward-shift deletion).
 *
 * The trace code keeps "recent" things by key in bounded memory: the
 * replay's window of request ids and blkparse's requests waiting for their
 * completion. Both already cap how many live entries they hold, so the map
 * never grows or rehashes: it is sized once at twice that cap.
 */
#ifndef LATSURF_TRACE_IDMAP_H
#define LATSURF_TRACE_IDMAP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct trace_idmap trace_idmap_t;

trace_idmap_t *trace_idmap_new(uint32_t max_entries);
void trace_idmap_free(trace_idmap_t *m);
void trace_idmap_clear(trace_idmap_t *m);
/* Insert or overwrite. false when the map already holds max_entries keys. */
bool trace_idmap_put(trace_idmap_t *m, uint64_t key, uint32_t val);
/* Insert key if it is absent: 1 inserted, 0 already there (*val is then its
 * value, the map unchanged), -1 the map is full. One probe where a get and a
 * put would take two. */
int trace_idmap_insert(trace_idmap_t *m, uint64_t key, uint32_t *val);
bool trace_idmap_get(const trace_idmap_t *m, uint64_t key, uint32_t *val);
bool trace_idmap_del(trace_idmap_t *m, uint64_t key);
uint32_t trace_idmap_size(const trace_idmap_t *m);

#endif

/*
 * sweep_mpi.h - a sweep's tasks spread over the ranks of an MPI job
 * (OpenMPI's mpirun, across machines). Every rank runs its tasks on its own
 * sweep_local pool, forked before MPI_Init; the rank processes themselves
 * only move task indices and result frames. Rank 0 hands out tasks
 * dynamically, as many to a rank as it has workers, and is the only rank
 * that delivers results (so the only SQLite writer). Built only when CMake
 * found MPI (LATSURF_HAVE_MPI); without it the calls return -ENOTSUP.
 */
#ifndef LATSURF_SWEEP_MPI_H
#define LATSURF_SWEEP_MPI_H

#include "sweep/sweep.h"
#include "sweep/sweep_local.h"

/* The size of the MPI job this process was started in and its rank, read
 * from the launcher's environment (before MPI_Init); size 0 when not under
 * mpirun. */
int sweep_mpi_env_size(void);
int sweep_mpi_env_rank(void);

/* 1 when this binary was built with MPI. */
int sweep_mpi_built(void);

/* MPI_Init, then this process's rank and the job size. 0 or -ENOTSUP/-EIO. */
int sweep_mpi_init(int *rank, int *size);

/* Collective: 1 when every rank passes ok != 0, so all ranks agree to go on
 * (a rank that could not load the plan or open the database stops them all). */
int sweep_mpi_all_ok(int ok);

/* Collective: run todo[0..ntodo) on every rank's pool. todo and sink are
 * used on rank 0 only; stop (the caller's Ctrl-C flag) stops every rank. Returns 0 or a negative errno on every rank; on rank
 * 0 -EINTR (interrupted), -EINVAL (a task's input was bad) or a runtime
 * error, with err set. */
int sweep_mpi_run(const sweep_plan_t *p, sweep_pool_t *pool, const uint32_t *todo, size_t ntodo,
                  sweep_sink_t *sink, const volatile sig_atomic_t *stop, char *err,
                  size_t errlen);

void sweep_mpi_finalize(void);

#endif

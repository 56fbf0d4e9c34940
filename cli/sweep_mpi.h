/*
 * sweep_mpi.h - a sweep's tasks on the ranks of an MPI job (OpenMPI's
 * mpirun, across machines). Rank 0 hands out task indices dynamically,
 * keeping two in hand at each other rank, runs tasks itself between
 * messages, and is the only rank that delivers results (so the only SQLite
 * writer); the other ranks run what they are given and send sweep_wire
 * frames back. Built only when CMake found MPI (LATSURF_HAVE_MPI); without
 * it every call but sweep_mpi_env_size returns -ENOTSUP.
 */
#ifndef LATSURF_SWEEP_MPI_H
#define LATSURF_SWEEP_MPI_H

#include "cli/sweep.h"

/* The size of the MPI job this process was started in, read from the
 * launcher's environment (before MPI_Init); 0 when not under mpirun. */
int sweep_mpi_env_size(void);

/* 1 when this binary was built with MPI. */
int sweep_mpi_built(void);

/* MPI_Init, then this process's rank and the job size. 0 or -ENOTSUP/-EIO. */
int sweep_mpi_init(int *rank, int *size);

/* Collective: 1 when every rank passes ok != 0, so all ranks agree to go on
 * (a rank that could not load the plan or open the database stops them all). */
int sweep_mpi_all_ok(int ok);

/* Collective: run todo[0..ntodo) over all ranks. todo and sink are used on
 * rank 0 only. Returns on every rank 0, or a negative errno (err set on
 * rank 0): -EINTR, -EINVAL (a task's input was bad) or a runtime error. */
int sweep_mpi_run(const sweep_plan_t *p, const uint32_t *todo, size_t ntodo, sweep_sink_t *sink,
                  char *err, size_t errlen);

void sweep_mpi_finalize(void);

#endif

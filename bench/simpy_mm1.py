#!/usr/bin/python3
"""M/M/1 (rho 0.5) in SimPy: the peer half of the comparison in bench/run.sh.

The same model as bench/mm1.c: arrivals every Exp(1000 ns), service
Exp(500 ns), one server, N customers, time in ns as floats. Works with the
SimPy 3/4 API (`import simpy`) or Debian 12's python3-simpy 2.3 (`SimPy`).

usage: simpy_mm1.py [CUSTOMERS]   (default 1000000)
Prints one line: mm1 simpy customers N wall_s W cpu_s C mean_wait_ns Q mean_sojourn_ns S
version V
"""
import random
import sys
import time

MEAN_ARRIVAL_NS = 1000.0
MEAN_SERVICE_NS = 500.0


class Stats:
    def __init__(self):
        self.n = 0
        self.wait = 0.0
        self.sojourn = 0.0


def run_simpy3(n, rng, st):
    import simpy

    env = simpy.Environment()
    server = simpy.Resource(env, capacity=1)

    def customer():
        arrive = env.now
        with server.request() as req:
            yield req
            st.wait += env.now - arrive
            yield env.timeout(rng.expovariate(1.0 / MEAN_SERVICE_NS))
        st.sojourn += env.now - arrive
        st.n += 1

    def source():
        for _ in range(n):
            env.process(customer())
            yield env.timeout(rng.expovariate(1.0 / MEAN_ARRIVAL_NS))

    env.process(source())
    env.run()
    return "simpy " + simpy.__version__


def run_simpy2(n, rng, st):
    import SimPy
    from SimPy.Simulation import (Process, Resource, activate, hold, initialize, now,
                                  release, request, simulate)

    class Customer(Process):
        def visit(self, server):
            arrive = now()
            yield request, self, server
            st.wait += now() - arrive
            yield hold, self, rng.expovariate(1.0 / MEAN_SERVICE_NS)
            yield release, self, server
            st.sojourn += now() - arrive
            st.n += 1

    class Source(Process):
        def generate(self, server):
            for _ in range(n):
                c = Customer()
                activate(c, c.visit(server))
                yield hold, self, rng.expovariate(1.0 / MEAN_ARRIVAL_NS)

    initialize()
    server = Resource(capacity=1)
    src = Source()
    activate(src, src.generate(server))
    simulate(until=1e300)
    return "SimPy " + getattr(SimPy, "__version__", "2")


def main():
    n = int(float(sys.argv[1])) if len(sys.argv) > 1 else 1000000
    rng = random.Random(1)
    st = Stats()
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        version = run_simpy3(n, rng, st)
    except ImportError:
        version = run_simpy2(n, rng, st)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print("mm1 simpy customers %d wall_s %.3f cpu_s %.3f mean_wait_ns %.1f mean_sojourn_ns %.1f "
          "version %s" % (st.n, wall, cpu, st.wait / st.n, st.sojourn / st.n,
                          version.replace(" ", "-")))
    return 0 if st.n == n else 1


if __name__ == "__main__":
    sys.exit(main())

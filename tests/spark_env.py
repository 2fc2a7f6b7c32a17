"""The JVM options of every Spark JVM the test suite starts: the in-process driver (local mode),
the drivers of the command lines the tests run, a standalone cluster's executors and daemons.

A test's Spark JVM lives for seconds to minutes on small data, beside the other pytest worker on
two cores. HotSpot's defaults are for long runs on many cores: the C2 compiler threads and G1's
concurrent threads spent about a third of the JVM's CPU (the parity scan of the small season on
local[2]: 170 CPU s for 108 s of wall, against 118 CPU s and 109 s with these options). The
options change how the JVM compiles and collects, never what a query computes, so every Spark
test tests the same Spark; the product's own sessions keep HotSpot's defaults.
"""

from __future__ import annotations

import shlex

#: the master of every Spark session the suite starts in its own process: one master, so the
#: tests share one session (naming another stops the running one: ``backends.spark_session``)
MASTER = "local[1]"

#: C1 only (no C2 compiler threads) and the serial collector (no concurrent GC threads); and
#: the code cache HotSpot reserves with tiered compilation on (240 MB): with C1 alone it reserves
#: 48 MB, which the whole-pack parity scan filled 71 s into a Spark worker's JVM (a clean-clone
#: CI run at 637fbc9: "Out of space in CodeCache for adapters", the JVM gone, 20 Spark tests
#: failed on its refused connections)
JAVA_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:ReservedCodeCacheSize=240m"


def submit_args(*confs: str) -> str:
    """PYSPARK_SUBMIT_ARGS with the test JVM options for the driver and the executors, and
    ``confs`` ("spark.driver.maxResultSize=8m", ...) besides."""
    settings = [
        f"spark.driver.extraJavaOptions={JAVA_OPTIONS}",
        f"spark.executor.extraJavaOptions={JAVA_OPTIONS}",
        *confs,
    ]
    return " ".join(f"--conf {shlex.quote(s)}" for s in settings) + " pyspark-shell"

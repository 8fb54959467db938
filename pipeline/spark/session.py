"""The SparkSession of a corpus run: checks first (pyspark installed, a Java 17+ runtime), then the session.

Both checks are one line a user can act on (:class:`~pipeline.errors.UserError`), raised before anything is
downloaded or written. ``--master`` and ``--spark-conf KEY=VALUE`` go to the builder as given; without
``--master``, the master spark-submit set (a cluster), else ``local[*]``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable

from pipeline.errors import UserError

MIN_JAVA = 17
SPARK_EXTRA = "pip install -e '.[spark]'"


def parse_conf(pairs: Iterable[str]) -> dict[str, str]:
    """``KEY=VALUE`` strings → a dict; a malformed one is a UserError."""
    conf = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not key.strip().startswith("spark."):
            raise UserError(f"--spark-conf takes KEY=VALUE with a spark.* key (e.g. spark.driver.memory=4g), "
                            f"got {pair!r}")
        conf[key.strip()] = value.strip()
    return conf


def require_pyspark() -> str:
    """pyspark's version; a UserError naming the extra to install when it is missing."""
    try:
        import pyspark
    except ImportError:
        raise UserError(f"the corpus stage needs PySpark: install the extra with {SPARK_EXTRA} "
                        "(and a Java 17+ runtime)") from None
    return pyspark.__version__


def java_version() -> int | None:
    """The major version of the Java runtime Spark will start ($JAVA_HOME/bin/java, else java on PATH)."""
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    if not java or not os.path.exists(java):
        return None
    try:
        result = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr + result.stdout)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major  # "1.8.0_x" is Java 8


def require_java() -> int:
    version = java_version()
    if version is None:
        raise UserError(f"the corpus stage needs a Java {MIN_JAVA}+ runtime and found none: install one "
                        "(e.g. apt install openjdk-17-jre-headless) or set JAVA_HOME")
    if version < MIN_JAVA:
        raise UserError(f"the corpus stage needs Java {MIN_JAVA}+ (Spark 4), found Java {version}: install a newer "
                        "runtime or point JAVA_HOME at one")
    return version


def local_cores(master: str) -> int | None:
    """The cores of a ``local``/``local[N]``/``local[*]`` master (None for a cluster master)."""
    match = re.fullmatch(r"local(?:\[(\*|\d+)(?:,\d+)?\])?", master.strip())
    if not match:
        return None
    if match.group(1) is None:
        return 1
    return os.cpu_count() or 1 if match.group(1) == "*" else int(match.group(1))


DEFAULT_MASTER = "local[*]"


def make_session(*, master: str | None, conf: dict[str, str], app: str = "trenchcoat corpus", quiet: bool = True):
    """A SparkSession for ``master`` with ``conf`` (plus Arrow transfers, UTC; Spark's stage progress bars on
    stderr unless ``quiet``).

    On a local master, shuffles get 4 partitions per core instead of Spark's 200 (sized for clusters: on a
    laptop, 200 tiny tasks per shuffle make a 3,000-paper run take minutes instead of seconds), and the Python
    workers (the terminology count runs the package's matcher in them) are this interpreter, which has the
    package's dependencies, unless ``PYSPARK_PYTHON`` says otherwise; on a cluster they
    are the executors' Python, which needs the package installed (see the README).
    """
    from pyspark import SparkConf
    from pyspark.sql import SparkSession

    if master is None:  # under spark-submit its --master is in the JVM's properties: keep it
        master = SparkConf().get("spark.master", None) or DEFAULT_MASTER
    builder = SparkSession.builder.appName(app).master(master)
    defaults = {"spark.ui.showConsoleProgress": str(not quiet).lower(),
                "spark.sql.execution.arrow.pyspark.enabled": "true",
                "spark.sql.session.timeZone": "UTC"}
    cores = local_cores(master)
    if cores:
        defaults["spark.sql.shuffle.partitions"] = str(4 * cores)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)    # read by SparkContext, not from the conf
    for key, value in {**defaults, **conf}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session

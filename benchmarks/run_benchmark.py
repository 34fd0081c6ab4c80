"""Benchmark: one Hill curve against mixtures of Hill curves, on known truth.

The entry point of the benchmark program, the ``mmm_bench`` package next to
this file (see ``benchmarks/README.md``)::

    python benchmarks/run_benchmark.py --tier quick
    python benchmarks/run_benchmark.py --help
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mmm_bench.cli import main

if __name__ == "__main__":
    raise SystemExit(main())

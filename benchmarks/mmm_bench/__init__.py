"""The benchmark program (``benchmarks/run_benchmark.py`` is its entry point).

- :mod:`mmm_bench.specs`: models, tiers, per-model sampler settings, the run
  specs and their cache keys, package versions and machine;
- :mod:`mmm_bench.priors`: ``--mixture-priors`` files of serialized priors;
- :mod:`mmm_bench.worker`: one fit and its metrics, in a child process;
- :mod:`mmm_bench.metrics`: the metric functions (arrays in, floats out);
- :mod:`mmm_bench.runner`: how the fits are executed (one process each);
- :mod:`mmm_bench.report`: cached results to comparisons, tables, figures;
- :mod:`mmm_bench.cli`: the command line.
"""

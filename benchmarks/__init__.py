"""webox benchmarks: ``python -m benchmarks`` (``--quick`` for about a minute).

How to run them and what each figure means: docs/benchmarks.md; the figures: docs/performance.md."""

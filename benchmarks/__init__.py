"""webox benchmarks: ``python -m benchmarks`` (``--quick`` for about a minute). See docs/performance.md."""

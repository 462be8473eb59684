"""Benchmarks of kvserver beside a real redis-server: `python -m bench.run`.

See bench/README.md.
"""

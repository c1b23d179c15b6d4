"""geoservice's benchmarks: ``python -m benchmarks <name> [options]`` (``python -m benchmarks``
lists them), each printing its figures and writing them as JSON with ``--json FILE``. Run from
the repository's root; nothing here is installed with the package. ``tests/test_benchmarks.py``
runs each one at Monaco size with tiny parameters."""

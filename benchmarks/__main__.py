"""``python -m benchmarks NAME [options]``: run one benchmark (``python -m benchmarks`` lists them;
``python -m benchmarks NAME --help`` tells its options). The same as ``python -m benchmarks.NAME``."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = {
    "engine": "build, load, isochrones, matrices vs networkx and OSRM, at province scale (mosaics)",
    "isochrone": "isochrone time per stage on one bundle",
    "ch": "the contraction hierarchy: build, customisation, matrices under traffic",
    "osrm": "OSRM's table on the same points as the engine's matrix (needs an OSRM build)",
    "api": "HTTP latency and throughput under a bounded load, overload and limits (127.0.0.1)",
    "memory": "memory of one server under a burst of heavy requests",
    "workers": "memory of serve --workers 1 and N on one region",
    "first_run": "a first run as a new user has it: serve on a fresh install, the first questions",
    "calibrate": "geoservice calibrate on 100,000 synthetic trips over a mosaic",
    "batch": "a simulated nation on Dask: sequential and LocalCluster",
}
"""Each name is a module of this package with a ``main()`` reading ``sys.argv``."""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help", "list"):
        print(__doc__.splitlines()[0] if __doc__ else "")
        for name, what in BENCHMARKS.items():
            print(f"  {name:<10} {what}")
        return 0
    name = args[0]
    if name not in BENCHMARKS:
        print(f"benchmarks: error: no benchmark {name!r}; choose one of {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"benchmarks.{name}")
    sys.argv = [f"benchmarks {name}", *args[1:]]
    code = module.main()
    return int(code or 0)


if __name__ == "__main__":
    raise SystemExit(main())

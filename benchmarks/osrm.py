"""OSRM's table on the same points as geoservice's matrix, for the engine benchmark (issue 10).

    python -m benchmarks osrm --osrm-bin /tmp/osrm-build --pbf /tmp/geoservice-mosaics/mosaic-12x12.osm.pbf \\
        --bundle /tmp/geoservice-mosaics/bundle-mosaic-12x12 --random 1000

OSRM is not a dependency of geoservice and is never downloaded: the user builds it (see the
README) and points here with ``--osrm-bin DIR`` (default: ``osrm-routed`` on PATH, else the
environment variable ``OSRM_BIN``). The .pbf goes through osrm-extract (car.lua unless
``--osrm-profile``), osrm-partition and osrm-customize (MLD); ``osrm-routed --algorithm mld`` is
started on 127.0.0.1 on a free port and asked ``/table/v1/driving`` (GET: osrm-routed has no
POST; its request parser takes any URL length, so the 2,000 coordinates go in one request with
``sources`` / ``destinations`` indices). The table is timed as the median of 3 after 1 warm-up.
When the build also has osrm-contract, the same extract is contracted (CH) and OSRM's CH table,
its faster table algorithm, is timed too (``--no-ch`` skips it).

The durations are compared with geoservice's matrix on the same points as information only: the
speed models differ (OSRM's car.lua against geoservice's drive profile), so values differ.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks import write_json

Point = tuple[float, float]
HOW_TO = (
    "point to an OSRM build with --osrm-bin DIR (the folder holding osrm-extract, osrm-partition, "
    "osrm-customize and osrm-routed), put osrm-routed on PATH or set OSRM_BIN"
)


@dataclass(frozen=True)
class OsrmTools:
    """Where the OSRM binaries and the car profile are, and which OSRM they are."""

    bin_dir: Path
    profile: Path
    version: str


@dataclass(frozen=True)
class OsrmPrep:
    """An MLD (and maybe CH) dataset (``base`` is the ``.osrm`` name osrm-routed takes) and its
    build times."""

    base: Path
    extract_s: float
    partition_s: float
    customize_s: float
    contract_s: float | None  # None: no CH made


@dataclass(frozen=True)
class Agreement:
    """OSRM's durations against geoservice's on the same pairs (information, not a test)."""

    both_share: float  # pairs both engines reach
    osrm_only_share: float
    ours_only_share: float
    median_ratio: float  # median of OSRM / geoservice over pairs both reach with a time > 0
    ratio_p10: float
    ratio_p90: float


@dataclass(frozen=True)
class OsrmTable:
    """One timed table: wall seconds (median of the timed runs), every run, osrm-routed's own CPU
    seconds per run (all its threads: wall time misleads on a shared machine), and the durations
    (s, inf where OSRM finds no route)."""

    seconds: float
    runs: tuple[float, ...]
    cpu_runs: tuple[float, ...]
    durations: np.ndarray

    @property
    def cpu_seconds(self) -> float:
        return statistics.median(self.cpu_runs)


@dataclass(frozen=True)
class OsrmBench:
    tools: OsrmTools
    prep: OsrmPrep
    table: OsrmTable  # MLD
    agreement: Agreement | None
    ch: OsrmTable | None = None

    def line(self) -> str:
        n, m = self.table.durations.shape
        return (
            f"OSRM (MLD) table on the same {n:,} x {m:,} points: {self.table.seconds:.3f} s "
            f"(extract {self.prep.extract_s:.1f} s, partition {self.prep.partition_s:.1f} s, "
            f"customise {self.prep.customize_s:.1f} s; {self.tools.version}; osrm-routed CPU "
            f"{self.table.cpu_seconds:.3f} s)"
        )


def find_bin_dir(osrm_bin: str | None = None) -> Path | None:
    """The folder holding osrm-routed: ``osrm_bin`` when given, else osrm-routed on PATH, else
    ``$OSRM_BIN``; None when none of them has it."""
    candidates: list[Path] = []
    if osrm_bin:
        candidates.append(Path(osrm_bin).expanduser())
    else:
        on_path = shutil.which("osrm-routed")
        if on_path:
            candidates.append(Path(on_path).resolve().parent)
        if os.environ.get("OSRM_BIN"):
            candidates.append(Path(os.environ["OSRM_BIN"]).expanduser())
    for d in candidates:
        if d.is_file():  # the binary itself was given
            d = d.parent
        if all(os.access(d / f"osrm-{t}", os.X_OK) for t in ("extract", "partition", "customize", "routed")):
            return d.resolve()
    return None


def find_profile(bin_dir: Path) -> Path | None:
    """car.lua of that OSRM: beside an installed tree (share/osrm/profiles), or in the source
    tree a CMake build folder was configured from (read from its CMakeCache.txt)."""
    places = [bin_dir / "profiles", bin_dir.parent / "profiles", bin_dir.parent / "share/osrm/profiles"]
    cache = bin_dir / "CMakeCache.txt"
    if cache.exists():
        for line in cache.read_text(errors="replace").splitlines():
            if line.startswith("CMAKE_HOME_DIRECTORY:INTERNAL="):
                places.insert(0, Path(line.split("=", 1)[1]) / "profiles")
    for p in places:
        if (p / "car.lua").exists():
            return (p / "car.lua").resolve()
    return None


def find_osrm(osrm_bin: str | None = None, *, profile: str | None = None) -> OsrmTools | None:
    """The OSRM to benchmark, or None when no build is found (see ``HOW_TO``)."""
    bin_dir = find_bin_dir(osrm_bin)
    if bin_dir is None:
        return None
    car = Path(profile).resolve() if profile else find_profile(bin_dir)
    if car is None or not car.exists():
        raise SystemExit(f"benchmarks osrm: no car.lua found for {bin_dir}: give --osrm-profile FILE")
    done = subprocess.run([str(bin_dir / "osrm-routed"), "--version"], capture_output=True, text=True, check=True)
    return OsrmTools(bin_dir=bin_dir, profile=car, version=f"OSRM {done.stdout.strip().splitlines()[-1]}")


def _timed(cmd: Sequence[str | Path], log: Path) -> float:
    t0 = time.perf_counter()
    with log.open("a") as f:
        subprocess.run([str(c) for c in cmd], check=True, stdout=f, stderr=subprocess.STDOUT)
    return time.perf_counter() - t0


def prepare(pbf: Path, *, tools: OsrmTools, work: Path, ch: bool = False) -> OsrmPrep:
    """osrm-extract, osrm-partition, osrm-customize (and osrm-contract when ``ch``) on ``pbf`` in
    ``work`` (logs in osrm.log)."""
    work.mkdir(parents=True, exist_ok=True)
    src = work / pbf.name  # osrm-extract writes its files beside its input
    if src.exists() or src.is_symlink():
        src.unlink()
    src.symlink_to(pbf.resolve())
    base = work / (pbf.name.split(".")[0] + ".osrm")
    log = work / "osrm.log"
    b = tools.bin_dir
    extract_s = _timed([b / "osrm-extract", "-p", tools.profile, src], log)
    partition_s = _timed([b / "osrm-partition", base], log)
    customize_s = _timed([b / "osrm-customize", base], log)
    contract_s = _timed([b / "osrm-contract", base], log) if ch else None
    return OsrmPrep(base, extract_s, partition_s, customize_s, contract_s)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Server:
    url: str
    pid: int

    def cpu_s(self) -> float:
        """CPU seconds (user + system, all threads) the server has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def serve(
    base: Path, *, tools: OsrmTools, algorithm: str = "mld", max_table_size: int = 1000, timeout_s: float = 300
) -> Iterator[Server]:
    """osrm-routed (``mld`` or ``ch``) on 127.0.0.1 on a free port until the block ends."""
    port = _free_port()
    cmd = [tools.bin_dir / "osrm-routed", "--algorithm", algorithm, "--ip", "127.0.0.1", "--port", str(port)]
    cmd += ["--max-table-size", str(max_table_size), base]
    log = (base.parent / "osrm-routed.log").open("w")
    proc = subprocess.Popen([str(c) for c in cmd], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"osrm-routed exited with {proc.returncode}: see {log.name}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"osrm-routed did not listen within {timeout_s} s") from None
                time.sleep(0.2)
        yield Server(url=url, pid=proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def table_url(url: str, sources: Sequence[Point], destinations: Sequence[Point]) -> str:
    """The GET URL of a durations table from each source to each destination."""
    coords = ";".join(f"{lon:.6f},{lat:.6f}" for lon, lat in [*sources, *destinations])
    n = len(sources)
    query = (
        f"sources={';'.join(map(str, range(n)))}"
        f"&destinations={';'.join(map(str, range(n, n + len(destinations))))}"
        "&annotations=duration&skip_waypoints=true"
    )
    return f"{url}/table/v1/driving/{coords}?{query}"


def fetch(request: str) -> bytes:
    with urllib.request.urlopen(request, timeout=600) as r:
        return bytes(r.read())


def durations(body: bytes) -> np.ndarray:
    """Durations (s) of a table answer; inf where OSRM finds no route."""
    answer = json.loads(body)
    if answer.get("code") != "Ok":
        raise RuntimeError(f"OSRM table: {answer.get('code')}: {answer.get('message')}")
    return np.array([[np.inf if v is None else v for v in row] for row in answer["durations"]], dtype=float)


def timed_table(server: Server, sources: Sequence[Point], destinations: Sequence[Point], *, runs: int = 3) -> OsrmTable:
    """Median wall time of ``runs`` requests after one warm-up (which also gives the values).
    A run is the GET until the whole JSON answer is read: OSRM's search and its JSON encoding,
    not Python's decoding."""
    request = table_url(server.url, sources, destinations)
    values = durations(fetch(request))
    times, cpu = [], []
    for _ in range(runs):
        c0, t0 = server.cpu_s(), time.perf_counter()
        fetch(request)
        times.append(time.perf_counter() - t0)
        cpu.append(server.cpu_s() - c0)
    return OsrmTable(seconds=statistics.median(times), runs=tuple(times), cpu_runs=tuple(cpu), durations=values)


def agreement(osrm: np.ndarray, ours: np.ndarray) -> Agreement:
    """How OSRM's durations relate to geoservice's on the same pairs."""
    a, b = np.isfinite(osrm), np.isfinite(ours)
    both = a & b & (ours > 0)
    ratio = osrm[both] / ours[both]
    p10, p50, p90 = np.percentile(ratio, [10, 50, 90]) if ratio.size else (np.nan,) * 3
    return Agreement(
        both_share=float((a & b).mean()),
        osrm_only_share=float((a & ~b).mean()),
        ours_only_share=float((~a & b).mean()),
        median_ratio=float(p50),
        ratio_p10=float(p10),
        ratio_p90=float(p90),
    )


def bench_osrm(
    pbf: Path,
    sources: Sequence[Point],
    destinations: Sequence[Point],
    *,
    tools: OsrmTools,
    work: Path,
    ours: np.ndarray | None = None,
    ch: bool | None = None,
) -> OsrmBench:
    """Prepare ``pbf`` for MLD (and CH: by default when the build has osrm-contract), serve it,
    time the table, stop the server, compare with ``ours``."""
    if ch is None:
        ch = os.access(tools.bin_dir / "osrm-contract", os.X_OK)
    prep = prepare(pbf, tools=tools, work=work, ch=ch)
    size = max(1000, len(sources), len(destinations))
    tables = {}
    for algorithm in ("mld", "ch") if ch else ("mld",):
        with serve(prep.base, tools=tools, algorithm=algorithm, max_table_size=size) as server:
            tables[algorithm] = timed_table(server, sources, destinations)
    mld = tables["mld"]
    return OsrmBench(
        tools=tools,
        prep=prep,
        table=mld,
        agreement=None if ours is None else agreement(mld.durations, ours),
        ch=tables.get("ch"),
    )


def describe(res: OsrmBench) -> list[str]:
    """The lines a benchmark prints."""
    runs = ", ".join(f"{t:.3f} (CPU {c:.3f})" for t, c in zip(res.table.runs, res.table.cpu_runs))
    lines = [res.line(), f"  table runs, wall s: {runs}"]
    if res.agreement is not None:
        g = res.agreement
        lines.append(
            f"  against geoservice (different speed models, information only): both reach {g.both_share:.1%} "
            f"of pairs (only OSRM {g.osrm_only_share:.1%}, only geoservice {g.ours_only_share:.1%}); "
            f"OSRM / geoservice time median {g.median_ratio:.3f} (p10 {g.ratio_p10:.3f}, p90 {g.ratio_p90:.3f})"
        )
    if res.ch is not None and res.prep.contract_s is not None:
        a, b = res.table.durations, res.ch.durations
        same = np.array_equal(np.isfinite(a), np.isfinite(b))
        diff = float(np.abs(a - b)[np.isfinite(a) & np.isfinite(b)].max(initial=0.0))
        lines.append(
            f"OSRM (CH) table on the same points: {res.ch.seconds:.3f} s (osrm-routed CPU {res.ch.cpu_seconds:.3f} s; "
            f"contract {res.prep.contract_s:.1f} s after the same extract); CH against MLD: "
            f"{'same' if same else 'DIFFERENT'} reachable pairs, largest difference {diff:.1f} s"
        )
    return lines


def read_points(path: Path) -> list[Point]:
    """lon,lat from a CSV with a header naming ``lon`` (or ``lng``/``x``) and ``lat`` (or ``y``)."""
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise SystemExit(f"benchmarks osrm: {path}: no rows")
    keys = {k.lower(): k for k in rows[0]}
    lon = next((keys[k] for k in ("lon", "lng", "x") if k in keys), None)
    lat = next((keys[k] for k in ("lat", "y") if k in keys), None)
    if lon is None or lat is None:
        raise SystemExit(f"benchmarks osrm: {path}: needs lon and lat columns")
    return [(float(r[lon]), float(r[lat])) for r in rows]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--osrm-bin", help="folder of the OSRM binaries (default: osrm-routed on PATH, else $OSRM_BIN)")
    ap.add_argument("--osrm-profile", help="OSRM Lua profile (default: car.lua of that OSRM)")
    ap.add_argument("--pbf", required=True, type=Path, help="OSM .pbf to route on")
    ap.add_argument("--sources", type=Path, help="CSV of lon,lat")
    ap.add_argument("--destinations", type=Path, help="CSV of lon,lat (default: the sources)")
    ap.add_argument("--bundle", type=Path, help="geoservice bundle of the same .pbf: compare with its matrix")
    ap.add_argument(
        "--random", type=int, help="use N random drive-network nodes of --bundle as sources and as many as destinations"
    )
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path, help="folder for OSRM's files (default: a temporary one)")
    ap.add_argument("--no-ch", action="store_true", help="time MLD only, even when osrm-contract is there")
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()
    tools = find_osrm(args.osrm_bin, profile=args.osrm_profile)
    if tools is None:
        raise SystemExit(f"benchmarks osrm: no OSRM found: {HOW_TO}")
    eng = None
    if args.bundle:
        from geoservice.bundle.store import load_region
        from geoservice.engine.engine import Engine

        eng = Engine(load_region(args.bundle))
    if args.random:
        if eng is None:
            raise SystemExit("benchmarks osrm: --random needs --bundle")
        net = eng.router_for("drive").net
        rng = np.random.default_rng(args.seed)
        pick = [rng.choice(net.n_nodes, args.random, replace=False) for _ in range(2)]
        src, dst = ([(float(net.node_lon[i]), float(net.node_lat[i])) for i in idx] for idx in pick)
    elif args.sources:
        src = read_points(args.sources)
        dst = read_points(args.destinations) if args.destinations else src
    else:
        raise SystemExit("benchmarks osrm: give --sources CSV or --bundle with --random N")
    ours = None
    if eng is not None:
        list(eng.matrix(src[:2], dst[:2]))  # warm up: compiled kernels, customised hierarchy
        t0 = time.perf_counter()
        rows = sorted(eng.matrix(src, dst), key=lambda r: r[0])
        print(f"geoservice matrix on the same {len(src):,} x {len(dst):,} points: {time.perf_counter() - t0:.3f} s")
        ours = np.vstack([r[1] for r in rows])
    with tempfile.TemporaryDirectory() as tmp:
        res = bench_osrm(
            args.pbf, src, dst, tools=tools, work=args.work or Path(tmp), ours=ours, ch=False if args.no_ch else None
        )
    print("\n".join(describe(res)))
    write_json(args.json, dict(res))


if __name__ == "__main__":
    main()

"""Line coverage per package of geoservice from the ``.coverage`` file a test run left (scripts/test.sh
writes it), with the packages below a threshold named; ``--json FILE`` writes the table; with
``--fail`` it exits 1 when a package is below the threshold (scripts/test.sh fails then).

    .venv/bin/python scripts/coverage_packages.py [--data .coverage] [--below 85] [--fail] [--json coverage.json]

A package is a folder of geoservice (``engine``, ``faces/api``, ...; the modules at the top count as
``geoservice``); files no test imported count with every line missed."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import coverage

REPO = Path(__file__).resolve().parents[1]


def package_of(path: Path) -> str:
    rel = path.relative_to(REPO / "geoservice").parent.as_posix()
    return "geoservice" if rel == "." else rel


def per_package(data_file: Path) -> dict[str, tuple[int, int]]:
    """package -> (statements, statements run)."""
    cov = coverage.Coverage(data_file=str(data_file), config_file=str(REPO / "pyproject.toml"))
    cov.load()
    out: dict[str, list[int]] = {}
    for f in sorted((REPO / "geoservice").rglob("*.py")):
        if "faces/web/" in f.as_posix():
            continue
        try:
            _, statements, _, missing, _ = cov.analysis2(str(f))
        except coverage.CoverageException:
            continue
        if not statements:
            continue
        row = out.setdefault(package_of(f), [0, 0])
        row[0] += len(statements)
        row[1] += len(statements) - len(missing)
    return {k: (v[0], v[1]) for k, v in sorted(out.items())}


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO / ".coverage", help="coverage data file")
    ap.add_argument("--below", type=float, default=85.0, help="name the packages under this share of lines")
    ap.add_argument("--json", type=Path, help="also write the table here")
    ap.add_argument("--fail", action="store_true", help="exit 1 when a package is below --below")
    args = ap.parse_args()
    if not args.data.exists():
        ap.error(f"--data: no coverage data at {args.data} (run scripts/test.sh first)")
    rows = per_package(args.data)
    total = sum(s for s, _ in rows.values())
    run = sum(r for _, r in rows.values())
    width = max(len(k) for k in rows)
    print(f"{'package':<{width}}  lines   run   share")
    low = []
    for name, (s, r) in rows.items():
        pct = 100.0 * r / s
        print(f"{name:<{width}}  {s:5d} {r:5d}  {pct:5.1f}%")
        if pct < args.below:
            low.append(f"{name} {pct:.1f}%")
    print(f"{'all':<{width}}  {total:5d} {run:5d}  {100.0 * run / total:5.1f}%")
    print(f"below {args.below:g}% of lines: " + (", ".join(low) if low else "none"))
    if args.json:
        doc = {k: {"lines": s, "run": r, "share": round(r / s, 4)} for k, (s, r) in rows.items()}
        args.json.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return 1 if args.fail and low else 0


if __name__ == "__main__":
    raise SystemExit(main())

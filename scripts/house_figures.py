"""The house figures of issue 22's closing note, measured on a source tree.

    .venv/bin/python scripts/house_figures.py            # a table
    .venv/bin/python scripts/house_figures.py --json     # the same figures as JSON
    .venv/bin/python scripts/house_figures.py --root /tmp/old-checkout   # another tree (e.g. `git archive`)

Figures: `mypy --strict` errors per package; functions over the complexity limit (ruff C901, the limit of
pyproject.toml's [tool.ruff.lint.mccabe], per-file ignores not applied); functions over 8 parameters per package
(ruff PLR0913, self/cls not counted, keyword-only counted); import circles between geoservice's modules (all
imports but `if TYPE_CHECKING:` ones, function-local ones included); function-local imports; public functions
with `Any` in their signature; the largest modules (lines).
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

MAX_ARGS = 8
PACKAGE = "geoservice"


def _package_of(rel: str) -> str:
    """geoservice/engine/x.py -> engine; faces by face: geoservice/faces/api/routers/x.py -> faces/api/routers."""
    parts = rel.split("/")
    if len(parts) <= 2:
        return "(top)"
    if parts[1] == "faces" and len(parts) > 3:
        return "/".join(parts[1:4]) if parts[2] == "api" and len(parts) > 4 else f"faces/{parts[2]}"
    return parts[1]


def _top_package(rel: str) -> str:
    parts = rel.split("/")
    return parts[1] if len(parts) > 2 else "(top)"


def _sources(root: Path) -> list[Path]:
    return sorted(p for p in (root / PACKAGE).rglob("*.py") if "static" not in p.parts)


def mypy_strict(root: Path, python: str, paths: list[str]) -> dict[str, int]:
    """`mypy --strict <paths>` errors per top package (engine, faces, ...), and their total."""
    proc = subprocess.run(
        [python, "-m", "mypy", "--strict", "--no-error-summary", *paths],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode not in (0, 1):
        raise SystemExit(f"house_figures: mypy failed: {proc.stderr.strip() or proc.stdout.strip()}")
    per: Counter[str] = Counter()
    for line in proc.stdout.splitlines():
        m = re.match(rf"({PACKAGE}/[^:]+\.py):\d+: error:", line)
        if m:
            per[_top_package(m.group(1))] += 1
    out = dict(sorted(per.items()))
    out["total"] = sum(per.values())
    return out


def _ruff(root: Path, python: str, rule: str, option: str) -> list[str]:
    """Paths of the findings of one ruff rule over geoservice/, the project's per-file ignores not applied."""
    proc = subprocess.run(
        [
            python,
            "-m",
            "ruff",
            "check",
            "--isolated",
            "--select",
            rule,
            "--config",
            option,
            "--output-format",
            "concise",
            "--exit-zero",
            PACKAGE,
        ],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"house_figures: ruff failed: {proc.stderr.strip()}")
    return [line.split(":", 1)[0] for line in proc.stdout.splitlines() if f" {rule} " in line]


def complexity_limit(root: Path) -> int:
    """max-complexity of the tree's pyproject.toml (10, ruff's default, when it sets none)."""
    conf = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    lint = conf.get("tool", {}).get("ruff", {}).get("lint", {})
    return int(lint.get("mccabe", {}).get("max-complexity", 10))


def _per_package(paths: list[str]) -> dict[str, int]:
    per = Counter(_package_of(p) for p in paths)
    out = dict(sorted(per.items(), key=lambda kv: (-kv[1], kv[0])))
    out["total"] = len(paths)
    return out


def _module_name(rel: Path) -> str:
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If):
            test = node.test
            name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", "")
            if name == "TYPE_CHECKING":
                return True
    return False


def _inside_function(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return True
    return False


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The geoservice modules one import statement loads (a name imported from a package may be a module)."""
    if isinstance(node, ast.Import):
        return {a.name for a in node.names if a.name in known}
    if node.level:
        base = module.split(".")
        base = base if is_package else base[:-1]
        base = base[: len(base) - node.level + 1]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    found = set()
    for alias in node.names:
        sub = f"{target}.{alias.name}"
        if sub in known:
            found.add(sub)
        elif target in known:
            found.add(target)
    return found


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's components with more than one module (or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def _signature_has_any(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    args = fn.args
    annotations = [a.annotation for a in (*args.posonlyargs, *args.args, *args.kwonlyargs) if a.annotation]
    annotations += [a.annotation for a in (args.vararg, args.kwarg) if a is not None and a.annotation]
    if fn.returns is not None:
        annotations.append(fn.returns)
    for ann in annotations:
        for node in ast.walk(ann):
            if (isinstance(node, ast.Name) and node.id == "Any") or (
                isinstance(node, ast.Attribute) and node.attr == "Any"
            ):
                return True
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.search(r"\bAny\b", node.value):
                return True
    return False


def source_figures(root: Path) -> dict[str, object]:
    """Import circles, function-local imports and public signatures with Any, from the source's syntax trees."""
    files = _sources(root)
    names = {_module_name(p.relative_to(root)): p for p in files}
    known = set(names)
    graph: dict[str, set[str]] = {m: set() for m in names}
    local_imports: Counter[str] = Counter()
    any_public: list[str] = []
    for module, path in names.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        rel = path.relative_to(root).as_posix()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                if _type_checking_only(node, parents):
                    continue
                if _inside_function(node, parents):
                    local_imports[_top_package(rel)] += 1
                graph[module] |= _targets(node, module, path.name == "__init__.py", known) - {module}
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                owner = parents.get(node)
                public = not node.name.startswith("_") or (node.name.startswith("__") and node.name.endswith("__"))
                in_private_class = isinstance(owner, ast.ClassDef) and owner.name.startswith("_")
                nested = isinstance(owner, ast.FunctionDef | ast.AsyncFunctionDef)
                if public and not in_private_class and not nested and _signature_has_any(node):
                    any_public.append(f"{rel}:{node.lineno} {node.name}")
    circles = _strongly_connected(graph)
    local = dict(sorted(local_imports.items()))
    local["total"] = sum(local_imports.values())
    return {
        "import_circles": len(circles),
        "import_circle_modules": circles,
        "function_local_imports": local,
        "public_signatures_with_any": len(any_public),
    }


def largest_modules(root: Path, top: int = 10, limit: int = 400) -> dict[str, object]:
    lines = {p.relative_to(root).as_posix(): len(p.read_text(encoding="utf-8").splitlines()) for p in _sources(root)}
    ranked = sorted(lines.items(), key=lambda kv: (-kv[1], kv[0]))
    return {
        "largest": dict(ranked[:top]),
        f"over_{limit}_lines": sum(1 for _, n in ranked if n > limit),
        "modules": len(ranked),
    }


def figures(root: Path, python: str, mypy_paths: list[str], max_complexity: int | None = None) -> dict[str, object]:
    limit = complexity_limit(root) if max_complexity is None else max_complexity
    return {
        "root": str(root),
        "mypy_strict_errors": mypy_strict(root, python, mypy_paths),
        "complexity_limit": limit,
        "complex_functions": _per_package(_ruff(root, python, "C901", f"lint.mccabe.max-complexity={limit}")),
        f"functions_over_{MAX_ARGS}_parameters": _per_package(
            _ruff(root, python, "PLR0913", f"lint.pylint.max-args={MAX_ARGS}")
        ),
        **source_figures(root),
        "modules": largest_modules(root),
    }


def _table(fig: dict[str, object]) -> str:
    out = []
    for key, value in fig.items():
        if isinstance(value, dict):
            out.append(f"{key}:")
            for k, v in value.items():
                if isinstance(v, dict):
                    out.append(f"  {k}:")
                    out.extend(f"    {kk}: {vv}" for kk, vv in v.items())
                else:
                    out.append(f"  {k}: {v}")
        elif isinstance(value, list):
            out.append(f"{key}:")
            out.extend(f"  {' <-> '.join(v) if isinstance(v, list) else v}" for v in value)
        else:
            out.append(f"{key}: {value}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1], help="the source tree")
    ap.add_argument("--json", action="store_true", help="print JSON")
    ap.add_argument(
        "--mypy-paths", nargs="+", default=[PACKAGE], help="what mypy --strict checks (default: the whole package)"
    )
    ap.add_argument(
        "--max-complexity", type=int, help="the C901 limit counted against (default: the tree's pyproject.toml)"
    )
    ap.add_argument("--python", default=sys.executable, help="the Python whose mypy and ruff run")
    args = ap.parse_args(argv)
    fig = figures(args.root.resolve(), args.python, args.mypy_paths, args.max_complexity)
    print(json.dumps(fig, indent=1, ensure_ascii=False) if args.json else _table(fig))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

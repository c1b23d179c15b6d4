"""scripts/house_figures.py: the closing note's figures, on a hand-made tree and on the repository."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "house_figures.py"

FIGURES = (
    "mypy_strict_errors",
    "complexity_limit",
    "complex_functions",
    "functions_over_8_parameters",
    "import_circles",
    "import_circle_modules",
    "function_local_imports",
    "public_signatures_with_any",
    "modules",
)


def _run(root: Path, *extra: str) -> dict:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--json", "--root", str(root), *extra],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return json.loads(proc.stdout)


def test_figures_of_a_hand_made_tree(tmp_path):
    pkg = tmp_path / "geoservice"
    (pkg / "faces").mkdir(parents=True)
    (tmp_path / "pyproject.toml").write_text("[tool.ruff.lint.mccabe]\nmax-complexity = 3\n")
    (pkg / "__init__.py").write_text("")
    (pkg / "faces" / "__init__.py").write_text("")
    # a -> b at the top, b -> a inside a function: one circle, one function-local import
    (pkg / "a.py").write_text(
        "from typing import Any\n\nfrom . import b\n\n\n"
        "def nine(p1, p2, p3, p4, p5, p6, p7, p8, *, p9):\n    return b\n\n\n"
        "def eight(self, p1, p2, p3, p4, p5, p6, p7, p8):\n    return 1\n\n\n"
        "def public(x: Any) -> int:\n    return 1\n\n\n"
        "def _private(x: Any) -> Any:\n    return x\n"
    )
    (pkg / "b.py").write_text(
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from .faces import c\n\n\n"
        "def late() -> int:\n    from . import a\n\n    return 1 if a else 2\n"
    )
    # complexity 4 > 3; faces/c.py imports nothing of ours
    (pkg / "faces" / "c.py").write_text(
        "def branchy(x: int) -> int:\n"
        "    if x == 1:\n        return 1\n    if x == 2:\n        return 2\n    if x == 3:\n        return 3\n"
        "    return 0\n"
    )
    fig = _run(tmp_path, "--mypy-paths", "geoservice/a.py")
    assert fig["complexity_limit"] == 3
    assert fig["complex_functions"] == {"faces": 1, "total": 1}
    # nine: 9 parameters (the keyword-only one counted); eight is a plain function, its `self` counts: 9
    assert fig["functions_over_8_parameters"] == {"(top)": 2, "total": 2}
    assert fig["import_circles"] == 1
    assert fig["import_circle_modules"] == [["geoservice.a", "geoservice.b"]]
    assert fig["function_local_imports"] == {"(top)": 1, "total": 1}
    assert fig["public_signatures_with_any"] == 1
    assert fig["modules"]["modules"] == 5
    assert fig["modules"]["largest"]["geoservice/a.py"] == 19  # lines, counted by hand
    # a.py: nine and eight are untyped (no-untyped-def, twice)
    assert fig["mypy_strict_errors"]["total"] >= 2
    assert fig["mypy_strict_errors"]["(top)"] == fig["mypy_strict_errors"]["total"]


def test_figures_of_the_repository():
    fig = _run(ROOT, "--mypy-paths", "geoservice/errors.py")
    for key in FIGURES:
        assert key in fig, key
    assert fig["mypy_strict_errors"] == {"total": 0}
    over = fig["functions_over_8_parameters"]
    assert over["total"] == sum(v for k, v in over.items() if k != "total")
    assert fig["function_local_imports"]["total"] > 0
    assert fig["modules"]["modules"] > 100
    largest = list(fig["modules"]["largest"].values())
    assert largest == sorted(largest, reverse=True)
    # the table form prints the same figures
    table = subprocess.run(
        [sys.executable, str(SCRIPT), "--mypy-paths", "geoservice/errors.py"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    for key in FIGURES:
        assert f"{key}:" in table, key

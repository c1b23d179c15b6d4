#!/usr/bin/env bash
# Mutation testing (issue 22), not part of CI: mutmut 3 mutates geoservice/engine/ and
# geoservice/analyses/dispatch.py in a scratch copy of the repository (nothing here is touched)
# and runs the engine and dispatch tests on every mutant, for at most MUTATION_SECONDS (default
# 1800); then lists the mutants that survived (no test failed) and the counts.
#
#   bash scripts/mutation.sh                         # 30 minutes
#   MUTATION_SECONDS=600 MUTATION_CHILDREN=1 bash scripts/mutation.sh
#   MUTATION_WORK=/tmp/m bash scripts/mutation.sh    # then: cd /tmp/m && ../path/.venv/bin/mutmut show <name>
#
# mutmut leaves decorated functions alone (the numba kernels of engine/kernels.py among them):
# their code is checked by the oracle tests, not here. The demo regions are built once into
# $MUTATION_WORK/regions (GEOSERVICE_TEST_REGIONS_DIR) and reused by every test run.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
WORK=${MUTATION_WORK:-${TMPDIR:-/tmp}/geoservice-mutation}
SECONDS_BOX=${MUTATION_SECONDS:-1800}
CHILDREN=${MUTATION_CHILDREN:-2}
TESTS=(
  tests/test_engine.py tests/test_partial_edges.py tests/test_snapping_rule.py tests/test_last_metres.py
  tests/test_isochrone_kernels.py tests/test_isochrone_outline.py tests/test_depart.py tests/test_matrix_stream.py
  tests/test_dispatch.py tests/analyses/test_dispatch_radius.py tests/test_trip_paths.py tests/test_cch.py
)
.venv/bin/python -m pip install -q "mutmut>=3.3,<4"
rm -rf "$WORK" && mkdir -p "$WORK"
git ls-files -z geoservice tests benchmarks docs examples README.md mkdocs.yml pyproject.toml | tar --null -T - -cf - | tar -xf - -C "$WORK"
{
  echo "[mutmut]"
  echo "source_paths = geoservice"
  echo "only_mutate = geoservice/engine/*"
  echo "    geoservice/analyses/dispatch.py"
  echo "pytest_add_cli_args_test_selection ="
  for t in "${TESTS[@]}"; do echo "    $t"; done
  echo "also_copy = benchmarks"
  for p in docs examples README.md mkdocs.yml pyproject.toml; do echo "    $p"; done
  printf 'pytest_add_cli_args =\n    -p\n    no:cacheprovider\n    -x\n    -q\n'  # one argument a line
} >"$WORK/setup.cfg"
# mutmut reads [tool.mutmut] of pyproject.toml before setup.cfg: the copy has none
export GEOSERVICE_TEST_REGIONS_DIR="$WORK/regions" NUMBA_CACHE_DIR="$WORK/numba-cache"
cd "$WORK"
"$REPO/.venv/bin/python" -c "
from pathlib import Path
from geoservice.bundle.demo import DEMO_REGIONS, ensure_demo
for n in DEMO_REGIONS:
    ensure_demo(n, Path('geoservice/data'), Path('regions'), quiet=True)"
start=$(date +%s)
timeout --kill-after=60 "$SECONDS_BOX" "$REPO/.venv/bin/mutmut" run --max-children "$CHILDREN" >"$WORK/run.log" 2>&1 || true
echo "scripts/mutation.sh: mutmut ran $(( $(date +%s) - start )) s (box ${SECONDS_BOX} s); log in $WORK/run.log" >&2
"$REPO/.venv/bin/mutmut" results --all true >"$WORK/results.txt" 2>&1 || true
echo "survived (no test failed on the mutant):"
grep -E ": survived$" "$WORK/results.txt" || echo "  none"
echo "counts:"
awk -F': ' '/: /{n[$NF]++} END {for (k in n) printf "  %-12s %d\n", k, n[k]}' "$WORK/results.txt"

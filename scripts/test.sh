#!/usr/bin/env bash
# Install geoservice with its test extras into .venv, check lint, format and types, and run the
# whole test suite. Browser tests need Debian's chromium: installed here when missing (root +
# apt), else skipped with a reason printed by pytest. Registry tests also run on PostgreSQL +
# PostGIS: a throwaway server (initdb + pg_ctl on a temporary directory and a free port, Debian's
# postgresql-15-postgis-3 installed when missing) is started for the run and stopped at exit;
# when that cannot be done, one line says why and those tests are skipped with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test]'
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) \
    || echo "scripts/test.sh: could not install chromium; browser tests will be skipped" >&2
fi
echo "scripts/test.sh: ruff check, ruff format --check, mypy" >&2
.venv/bin/ruff check geoservice tests scripts benchmarks
.venv/bin/ruff format --check geoservice tests scripts benchmarks
.venv/bin/mypy
echo "scripts/test.sh: the manual (mkdocs build --strict, zh + en) into geoservice/faces/web/guide, served at /guide/" >&2
.venv/bin/python -m geoservice.faces.guide build --strict

# ---------------------------------------------------------------- throwaway PostgreSQL + PostGIS
PG_DIR=""
PG_AS=()
PG_BIN=""
PG_MSG=""
pg_stop() {
  if [ -n "$PG_DIR" ] && [ -d "$PG_DIR" ]; then
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}
pg_start() {
  [ -n "${GEOSERVICE_TEST_DATABASE_URL:-}" ] && { PG_MSG="using GEOSERVICE_TEST_DATABASE_URL as given"; return 0; }
  PG_BIN=$(dirname "$(readlink -f "$(command -v pg_ctl 2>/dev/null || echo /usr/lib/postgresql/15/bin/pg_ctl)")")
  [ -x "$PG_BIN/initdb" ] || { PG_MSG="no PostgreSQL server binaries ($PG_BIN/initdb)"; return 1; }
  local share="/usr/share/postgresql/$(basename "$(dirname "$PG_BIN")")/extension"
  if [ ! -e "$share/postgis.control" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15-postgis-3 >/dev/null) \
        || { PG_MSG="could not install postgresql-15-postgis-3"; return 1; }
    fi
    [ -e "$share/postgis.control" ] || { PG_MSG="PostGIS is not installed ($share/postgis.control)"; return 1; }
  fi
  PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/geoservice-pg.XXXXXX") && [ -d "$PG_DIR" ] \
    || { PG_DIR=""; PG_MSG="could not make a temporary directory"; return 1; }
  if [ "$(id -u)" = 0 ]; then  # initdb refuses root: run the server as an unprivileged user
    local user=postgres
    id "$user" >/dev/null 2>&1 || user=nobody
    chown "$user" "$PG_DIR"
    PG_AS=(runuser -u "$user" --)
  else
    PG_AS=(env)
  fi
  local port
  port=$(.venv/bin/python -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
  "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --no-locale \
    >"$PG_DIR/initdb.log" 2>&1 || { PG_MSG="initdb failed: $(tail -n 1 "$PG_DIR/initdb.log")"; return 1; }
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-p $port -k $PG_DIR -c listen_addresses= -c fsync=off -c synchronous_commit=off -c max_connections=300" \
    start >/dev/null || { PG_MSG="pg_ctl start failed: $(tail -n 1 "$PG_DIR/server.log")"; return 1; }
  local psql=("${PG_AS[@]}" "$PG_BIN/psql" -h "$PG_DIR" -p "$port" -U postgres -qAtX -v ON_ERROR_STOP=1)
  "${psql[@]}" -d postgres -c "CREATE DATABASE geoservice_test" >/dev/null 2>&1 \
    || { PG_MSG="CREATE DATABASE failed"; return 1; }
  "${psql[@]}" -d geoservice_test -c "CREATE EXTENSION postgis" >/dev/null 2>&1 \
    || { PG_MSG="CREATE EXTENSION postgis failed"; return 1; }
  export GEOSERVICE_TEST_DATABASE_URL="postgresql://postgres@/geoservice_test?host=$PG_DIR&port=$port"
  PG_MSG="PostgreSQL $("$PG_BIN/postgres" -V | awk '{print $3}') + PostGIS on port $port ($PG_DIR), stopped at exit"
}
REGIONS_TMP=""
cleanup() {
  pg_stop
  if [ -n "$REGIONS_TMP" ]; then rm -rf "$REGIONS_TMP"; fi
}
trap cleanup EXIT
PG_MSG="failed"
if pg_start 2>/dev/null; then
  echo "scripts/test.sh: $PG_MSG" >&2
else
  echo "scripts/test.sh: no PostgreSQL for the tests ($PG_MSG); they are skipped" >&2
  pg_stop
  PG_DIR=""
  unset GEOSERVICE_TEST_DATABASE_URL
fi

# ---------------------------------------------------------------- the suite, with coverage
# In parallel (pytest-xdist, one worker per core; GEOSERVICE_TEST_WORKERS=0 runs it in one process),
# the browser tests on one worker; then the tests marked serial (timing, CPU, memory: see SERIAL in
# tests/conftest.py) alone. Coverage of geoservice from both parts, its floor in pyproject.toml
# ([tool.coverage.report] fail_under), and the line share per package (scripts/coverage_packages.py).
# The demo regions are built once for both parts: the first test that needs them builds them into
# this folder (one xdist worker builds, the others wait on its lock; tests/conftest.py regions_dir).
# tests/test_kernels_interpreted.py runs again in a child process with NUMBA_DISABLE_JIT=1, under
# coverage, so the compiled kernels' lines are measured too (its data is combined by pytest-cov).
if [ -z "${GEOSERVICE_TEST_REGIONS_DIR:-}" ]; then
  REGIONS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/geoservice-test-regions.XXXXXX")
  export GEOSERVICE_TEST_REGIONS_DIR="$REGIONS_TMP"
fi
WORKERS=${GEOSERVICE_TEST_WORKERS:-auto}
XDIST=()
[ "$WORKERS" != 0 ] && XDIST=(-n "$WORKERS" --dist loadgroup)
rm -f .coverage .coverage.*
status=0
start=$(date +%s)
# --durations: each part names its slowest tests, where the suite's time goes
.venv/bin/python -m pytest "${XDIST[@]}" -m "not serial" --cov --cov-report= --durations=15 "$@" || status=$?
[ "$status" = 5 ] && status=0  # nothing selected (a path given that holds no such test)
mid=$(date +%s)
serial=0
.venv/bin/python -m pytest -m serial --cov --cov-append --cov-report= --durations=10 "$@" || serial=$?
[ "$serial" = 5 ] && serial=0
[ "$status" = 0 ] && status=$serial
end=$(date +%s)
echo "scripts/test.sh: tests took $(( end - start )) s (parallel part $(( mid - start )) s, serial part $(( end - mid )) s)" >&2
if [ -f .coverage ]; then
  # every package at 85% of its lines or more (issue 22); checked when the whole suite ran
  FAIL_LOW=()
  [ "$#" = 0 ] && FAIL_LOW=(--fail)
  .venv/bin/python scripts/coverage_packages.py --below 85 "${FAIL_LOW[@]}" >&2 \
    || { echo "scripts/test.sh: a package of geoservice is below 85% of its lines (scripts/coverage_packages.py)" >&2; [ "$status" = 0 ] && status=1; }
  .venv/bin/python -m coverage report --format=total >/dev/null 2>&1 \
    || { echo "scripts/test.sh: line coverage $(.venv/bin/python -m coverage report --format=total)% is below the floor (pyproject.toml fail_under)" >&2; [ "$status" = 0 ] && status=1; }
fi
exit "$status"

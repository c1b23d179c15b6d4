#!/usr/bin/env bash
# Install geoservice with its test extras into .venv, check lint, format and types, and run the
# whole test suite. Browser tests need Debian's chromium: installed here when missing (root +
# apt), else skipped with a reason printed by pytest.
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
.venv/bin/ruff check geoservice tests scripts
.venv/bin/ruff format --check geoservice tests scripts
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"

#!/bin/sh
# CI stage: install dependencies.
set -eu
cd "$(dirname "$0")/../.."
. scripts/ci/logging.sh
ci_log info "bootstrap ($(ci_kind))"
ci_make_target bootstrap && exit 0
case "$(ci_kind)" in
  node) if [ -f package-lock.json ]; then npm ci; else npm install; fi ;;
  python)
    python3 -m pip install --upgrade pip
    if [ -f requirements.txt ]; then python3 -m pip install -r requirements.txt; fi
    if [ -f pyproject.toml ] || [ -f setup.py ]; then python3 -m pip install -e .; fi
    ;;
  go) go mod download ;;
  rust) cargo fetch ;;
  *) ci_skip bootstrap ;;
esac

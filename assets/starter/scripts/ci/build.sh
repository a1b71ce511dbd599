#!/bin/sh
# CI stage: build the artefacts.
set -eu
cd "$(dirname "$0")/../.."
. scripts/ci/logging.sh
ci_log info "build ($(ci_kind))"
ci_make_target build && exit 0
case "$(ci_kind)" in
  node) npm run build --if-present ;;
  python) if python3 -c 'import build' 2>/dev/null; then python3 -m build; else ci_skip build; fi ;;
  go) go build ./... ;;
  rust) cargo build --release ;;
  *) ci_skip build ;;
esac

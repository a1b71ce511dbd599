#!/bin/sh
# CI stage: style and static checks.
set -eu
cd "$(dirname "$0")/../.."
. scripts/ci/logging.sh
ci_log info "lint ($(ci_kind))"
ci_make_target lint && exit 0
case "$(ci_kind)" in
  node) npm run lint --if-present ;;
  python)
    if ci_has ruff; then ruff check .
    elif ci_has flake8; then flake8 .
    else ci_skip lint
    fi
    ;;
  go) go vet ./... ;;
  rust) cargo clippy --all-targets -- -D warnings ;;
  *) ci_skip lint ;;
esac

#!/bin/sh
# CI stage: type checking.
set -eu
cd "$(dirname "$0")/../.."
. scripts/ci/logging.sh
ci_log info "typecheck ($(ci_kind))"
ci_make_target typecheck && exit 0
case "$(ci_kind)" in
  node)
    if grep -q '"typecheck"' package.json; then npm run typecheck
    elif [ -f tsconfig.json ]; then npx --no-install tsc --noEmit
    else ci_skip typecheck
    fi
    ;;
  python) if ci_has mypy; then mypy .; else ci_skip typecheck; fi ;;
  go) go build ./... ;;
  rust) cargo check --all-targets ;;
  *) ci_skip typecheck ;;
esac

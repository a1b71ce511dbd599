#!/bin/sh
# CI stage: the test suite.
set -eu
cd "$(dirname "$0")/../.."
. scripts/ci/logging.sh
ci_log info "test ($(ci_kind))"
ci_make_target test && exit 0
case "$(ci_kind)" in
  node) npm test --if-present ;;
  python) python3 -m pytest ;;
  go) go test ./... ;;
  rust) cargo test ;;
  *) ci_skip test ;;
esac

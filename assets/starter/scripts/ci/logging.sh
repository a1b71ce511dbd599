#!/bin/sh
# Shared by the scripts/ci stages: one-line logs and the project kind. Source it, do not run it.

ci_log() {
  # ci_log <level> <message...>: warnings and errors go to stderr.
  level="$1"
  shift
  line="[ci] $(date -u +%Y-%m-%dT%H:%M:%SZ) ${level}: $*"
  case "$level" in
    warn | error) echo "$line" >&2 ;;
    *) echo "$line" ;;
  esac
}

ci_kind() {
  # Prints node, python, go, rust, make or unknown, from the files at the repository root.
  if [ -f package.json ]; then echo node
  elif [ -f pyproject.toml ] || [ -f requirements.txt ] || [ -f setup.py ]; then echo python
  elif [ -f go.mod ]; then echo go
  elif [ -f Cargo.toml ]; then echo rust
  elif [ -f Makefile ]; then echo make
  else echo unknown
  fi
}

ci_make_target() {
  # ci_make_target <target>: runs `make <target>` when the Makefile has it (a failure ends the
  # stage with make's status); returns 1 when it has no such target.
  { [ -f Makefile ] && grep -Eq "^$1:" Makefile; } || return 1
  make "$1" || exit "$?"
}

ci_has() {
  command -v "$1" >/dev/null 2>&1
}

ci_skip() {
  ci_log info "$1: nothing to do for a $(ci_kind) project"
  exit 0
}

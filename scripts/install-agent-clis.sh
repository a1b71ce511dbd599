#!/usr/bin/env sh
# Installs the real Codex, Claude Code and OpenCode CLIs into tools/agent-clis (idempotent).
# The engine argv tests read their --help; nothing here talks to a model.
set -eu
cd "$(dirname "$0")/../tools/agent-clis"
if [ -x node_modules/.bin/codex ] && [ -x node_modules/.bin/claude ] && [ -x node_modules/.bin/opencode ]; then
  exit 0
fi
npm install --no-package-lock --no-audit --no-fund

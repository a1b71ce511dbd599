#!/bin/sh
# Reports a CI result to TasksGodzilla: scripts/ci/report.sh [status]   (`tasksgodzilla ci report` sends the same)
#   status: success (default) | failure | pending | running | failed | ... (passed through as the provider would)
# Does nothing unless TASKSGODZILLA_API_BASE is set. Needs curl; openssl only when signing.
# Exits non-zero when the server refuses the report or cannot be reached (curl's exit code), so a
# misconfigured secret shows up; append `|| true` where a report must never fail the pipeline.
#   TASKSGODZILLA_CI_PROVIDER        github (default) or gitlab
#   TASKSGODZILLA_WEBHOOK_TOKEN      signs (GitHub HMAC) or authenticates (GitLab token) the report
#   TASKSGODZILLA_API_TOKEN          sent as a bearer token (not needed by the webhook routes)
#   TASKSGODZILLA_PROTOCOL_RUN_ID    targets a run explicitly
#   TASKSGODZILLA_BRANCH             branch (else CI_COMMIT_REF_NAME, GITHUB_HEAD_REF, GITHUB_REF_NAME, git HEAD)
#   TASKSGODZILLA_TARGET_URL         link to the CI run (else CI_JOB_URL, the GitHub Actions run, GITHUB_SERVER_URL)
#   TASKSGODZILLA_CI_LOG_FILE        a log whose tail (last 200 lines) is attached as log_excerpt
set -eu

status="${1:-success}"
[ -n "${TASKSGODZILLA_API_BASE:-}" ] || { echo "CI report skipped: TASKSGODZILLA_API_BASE is not set" >&2; exit 0; }

branch="${TASKSGODZILLA_BRANCH:-${CI_COMMIT_REF_NAME:-${GITHUB_HEAD_REF:-${GITHUB_REF_NAME:-}}}}"
[ -n "$branch" ] || branch="$(git rev-parse --abbrev-ref HEAD 2>/dev/null || true)"
[ -n "$branch" ] || branch="unknown"
sha="${TASKSGODZILLA_COMMIT_SHA:-${GITHUB_SHA:-${CI_COMMIT_SHA:-}}}"
[ -n "$sha" ] || sha="$(git rev-parse HEAD 2>/dev/null || true)"
provider=$(printf '%s' "${TASKSGODZILLA_CI_PROVIDER:-github}" | tr '[:upper:]' '[:lower:]')
case "$provider" in
  github|gitlab) ;;
  *) echo "unknown CI provider \"$provider\": expected github or gitlab" >&2; exit 2 ;;
esac
target_url="${TASKSGODZILLA_TARGET_URL:-${CI_JOB_URL:-}}"
if [ -z "$target_url" ] && [ -n "${GITHUB_SERVER_URL:-}" ]; then
  target_url="$GITHUB_SERVER_URL"
  [ -n "${GITHUB_REPOSITORY:-}" ] && [ -n "${GITHUB_RUN_ID:-}" ] &&
    target_url="$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID"
fi

# JSON string literal of stdin: backslashes, quotes and control characters escaped.
json_string() {
  awk 'BEGIN { ORS = ""; print "\"" }
       { gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); gsub(/\t/, "\\t"); gsub(/\r/, "\\r");
         gsub(/[\001-\010\013\014\016-\037]/, ""); if (NR > 1) print "\\n"; print }
       END { print "\"" }'
}

b=$(printf '%s' "$branch" | json_string)
s=$(printf '%s' "$status" | json_string)
h=$(printf '%s' "$sha" | json_string)
u=$(printf '%s' "$target_url" | json_string)
log='null'
if [ -n "${TASKSGODZILLA_CI_LOG_FILE:-}" ] && [ -r "$TASKSGODZILLA_CI_LOG_FILE" ]; then
  log=$(tail -n 200 "$TASKSGODZILLA_CI_LOG_FILE" | json_string)
fi

query=""
[ -n "${TASKSGODZILLA_PROTOCOL_RUN_ID:-}" ] && query="?protocol_run_id=${TASKSGODZILLA_PROTOCOL_RUN_ID}"

if [ "$provider" = "gitlab" ]; then
  body="{\"object_kind\":\"pipeline\",\"object_attributes\":{\"status\":$s,\"ref\":$b,\"sha\":$h,\"url\":$u},\"log_excerpt\":$log}"
  set -- -H "X-Gitlab-Event: Pipeline Hook"
  [ -n "${TASKSGODZILLA_WEBHOOK_TOKEN:-}" ] && set -- "$@" -H "X-Gitlab-Token: ${TASKSGODZILLA_WEBHOOK_TOKEN}"
else
  body="{\"state\":$s,\"branches\":[{\"name\":$b}],\"target_url\":$u,\"ref\":$b,\"sha\":$h,\"log_excerpt\":$log}"
  set -- -H "X-GitHub-Event: status"
  if [ -n "${TASKSGODZILLA_WEBHOOK_TOKEN:-}" ]; then
    signature=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$TASKSGODZILLA_WEBHOOK_TOKEN" | sed 's/^.* //')
    set -- "$@" -H "X-Hub-Signature-256: sha256=${signature}"
  fi
fi
[ -n "${TASKSGODZILLA_API_TOKEN:-}" ] && set -- "$@" -H "Authorization: Bearer ${TASKSGODZILLA_API_TOKEN}"

curl --silent --show-error --fail-with-body -X POST "${TASKSGODZILLA_API_BASE%/}/webhooks/${provider}${query}" \
  -H "Content-Type: application/json" "$@" --data-binary "$body"
echo

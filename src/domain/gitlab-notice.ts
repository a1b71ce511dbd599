import type { CiNotice } from './ci-notice.js'
import type { JsonObject } from './json.js'
import { at, compact, numberAt, objectAt, textAt } from './json-path.js'

const LOG_EXCERPT_CHARS = 8_000

/** Reduces a GitLab delivery (or a reporter pipeline payload) to a CI notice. */
export const gitlabNotice = (headerEvent: string, payload: JsonObject): CiNotice => {
  const kind = textAt(payload, 'object_kind') ?? headerEvent
  const attrs = objectAt(payload, 'object_attributes') ?? {}
  const rawStatus = textAt(attrs, 'status') ?? textAt(attrs, 'state') ?? textAt(payload, 'build_status')
  const status = allowedFailure(payload, rawStatus) ? ALLOWED_FAILURE : rawStatus
  const ref = refOf(payload, attrs)
  const isMergeRequest = kind === 'merge_request'
  const merged = isMergeRequest && textAt(attrs, 'state') === 'merged'
  return {
    provider: 'gitlab',
    event: kind,
    action: textAt(attrs, 'action') ?? '',
    branch: textAt(attrs, 'source_branch') ?? ref,
    sha:
      textAt(attrs, 'sha') ??
      textAt(attrs, 'last_commit', 'id') ??
      textAt(payload, 'checkout_sha') ??
      textAt(payload, 'sha') ??
      textAt(payload, 'after'),
    conclusion: status,
    status,
    prNumber: isMergeRequest ? numberAt(attrs, 'iid') : null,
    checkName: textAt(payload, 'build_name'),
    merged,
    repositoryUrls: repositoryUrls(payload),
    details: compact({
      pipeline_id: numberAt(attrs, 'id') ?? numberAt(payload, 'pipeline_id'),
      url: textAt(attrs, 'url') ?? jobUrl(payload),
      job: textAt(payload, 'build_name'),
      stage: textAt(payload, 'build_stage'),
      failure_reason: textAt(payload, 'build_failure_reason'),
      status: rawStatus,
      log_excerpt: textAt(payload, 'log_excerpt')?.slice(-LOG_EXCERPT_CHARS),
    }),
  }
}

/**
 * A job that failed with `allow_failure` does not fail its pipeline, so it is no CI failure either:
 * its status becomes one that maps to no outcome (recorded, nothing changes).
 */
const ALLOWED_FAILURE = 'failed_allowed'
const allowedFailure = (payload: JsonObject, status: string | null): boolean =>
  status === 'failed' && at(payload, 'build_allow_failure') === true

/** Job and pipeline refs are bare names; a tag's is made `refs/tags/…` so it never names a run. */
const refOf = (payload: JsonObject, attrs: JsonObject): string | null => {
  const ref = textAt(attrs, 'ref') ?? textAt(payload, 'ref')
  const tag = at(attrs, 'tag') === true || at(payload, 'tag') === true
  return ref !== null && tag && !ref.startsWith('refs/') ? `refs/tags/${ref}` : ref
}

/** Job Hook payloads carry no URL: the job page is `<project web URL>/-/jobs/<build_id>`. */
const jobUrl = (payload: JsonObject): string | null => {
  const web = textAt(payload, 'project', 'web_url') ?? textAt(payload, 'repository', 'homepage')
  const id = numberAt(payload, 'build_id')
  return web !== null && id !== null ? `${web.replace(/\/+$/, '')}/-/jobs/${id}` : null
}

const repositoryUrls = (payload: JsonObject): string[] =>
  [
    textAt(payload, 'project', 'git_http_url'),
    textAt(payload, 'project', 'git_ssh_url'),
    textAt(payload, 'project', 'web_url'),
    textAt(payload, 'repository', 'git_http_url'),
    textAt(payload, 'repository', 'git_ssh_url'),
    textAt(payload, 'repository', 'homepage'),
  ].filter((url): url is string => url !== null)

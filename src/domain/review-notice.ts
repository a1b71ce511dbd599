import type { CiProvider } from './ci-notice.js'
import type { JsonObject } from './json.js'
import { numberAt, objectAt, textAt } from './json-path.js'

/** Longest comment body kept (the head is kept: a review's point comes first). */
export const REVIEW_COMMENT_KEEP_CHARS = 4_000

/** One reviewer remark, with the file and line it is anchored to when it has one. */
export interface ReviewComment {
  /** The provider's id of the comment (or review), unique within the provider. */
  readonly key: string
  readonly author: string | null
  readonly body: string
  readonly path: string | null
  readonly line: number | null
  readonly url: string | null
  /** GitHub review state (`changes_requested`, `commented`, …); null for single comments. */
  readonly state: string | null
}

/** A review delivery (GitHub `pull_request_review[_comment]`, GitLab MR note) reduced to what we act on. */
export interface ReviewNotice {
  readonly provider: CiProvider
  readonly event: string
  readonly prNumber: number | null
  /** The PR/MR head branch, to find the run. */
  readonly branch: string | null
  readonly repositoryUrls: readonly string[]
  /** Comments worth handing to the agent; empty when the delivery carries none (an approval). */
  readonly comments: readonly ReviewComment[]
}

const GITHUB_REVIEW_EVENTS = ['pull_request_review', 'pull_request_review_comment'] as const
/** Only new remarks are work for the agent; edits and deletions of old ones are not. */
const GITHUB_NEW_ACTIONS = new Set(['submitted', 'created'])

/**
 * Whether a delivery is a review event at all (so it takes the review path, not the CI one):
 * the two GitHub review events, or a GitLab note on a merge request.
 */
export const isReviewDelivery = (provider: CiProvider, event: string, payload: JsonObject): boolean =>
  provider === 'github'
    ? (GITHUB_REVIEW_EVENTS as readonly string[]).includes(event)
    : textAt(payload, 'object_kind') === 'note' &&
      textAt(payload, 'object_attributes', 'noteable_type') === 'MergeRequest'

/** The review a delivery carries, or undefined when it is no review event. */
export const reviewNoticeOf = (
  provider: CiProvider,
  event: string,
  payload: JsonObject,
): ReviewNotice | undefined => {
  if (!isReviewDelivery(provider, event, payload)) return undefined
  return provider === 'github' ? githubReview(event, payload) : gitlabNote(payload)
}

const githubReview = (event: string, payload: JsonObject): ReviewNotice => {
  const pr = objectAt(payload, 'pull_request') ?? {}
  const isNew = GITHUB_NEW_ACTIONS.has(textAt(payload, 'action') ?? '')
  const source = objectAt(payload, event === 'pull_request_review' ? 'review' : 'comment') ?? {}
  const comment = isNew ? githubComment(event, source) : undefined
  return {
    provider: 'github',
    event,
    prNumber: numberAt(pr, 'number'),
    branch: textAt(pr, 'head', 'ref'),
    repositoryUrls: urls(payload, [
      ['repository', 'clone_url'],
      ['repository', 'ssh_url'],
      ['repository', 'html_url'],
    ]),
    comments: comment ? [comment] : [],
  }
}

const githubComment = (event: string, source: JsonObject): ReviewComment | undefined => {
  const body = textAt(source, 'body')?.trim()
  if (!body) return undefined
  const id = numberAt(source, 'id')
  return {
    key: `${event}:${id ?? textAt(source, 'node_id') ?? body.slice(0, 40)}`,
    author: textAt(source, 'user', 'login'),
    body: body.slice(0, REVIEW_COMMENT_KEEP_CHARS),
    path: textAt(source, 'path'),
    line: numberAt(source, 'line') ?? numberAt(source, 'original_line'),
    url: textAt(source, 'html_url'),
    state: event === 'pull_request_review' ? textAt(source, 'state') : null,
  }
}

const gitlabNote = (payload: JsonObject): ReviewNotice => {
  const attrs = objectAt(payload, 'object_attributes') ?? {}
  const mr = objectAt(payload, 'merge_request') ?? {}
  const body = textAt(attrs, 'note')?.trim()
  // System notes ("added 1 commit", "approved this merge request") are GitLab's, not a reviewer's.
  const comment: ReviewComment | undefined =
    body && attrs.system !== true
      ? {
          key: `note:${numberAt(attrs, 'id') ?? body.slice(0, 40)}`,
          author: textAt(payload, 'user', 'username'),
          body: body.slice(0, REVIEW_COMMENT_KEEP_CHARS),
          path: textAt(attrs, 'position', 'new_path') ?? textAt(attrs, 'position', 'old_path'),
          line: numberAt(attrs, 'position', 'new_line') ?? numberAt(attrs, 'position', 'old_line'),
          url: textAt(attrs, 'url'),
          state: null,
        }
      : undefined
  return {
    provider: 'gitlab',
    event: 'note',
    prNumber: numberAt(mr, 'iid'),
    branch: textAt(mr, 'source_branch'),
    repositoryUrls: urls(payload, [
      ['project', 'git_http_url'],
      ['project', 'git_ssh_url'],
      ['project', 'web_url'],
      ['repository', 'homepage'],
    ]),
    comments: comment ? [comment] : [],
  }
}

const urls = (payload: JsonObject, paths: ReadonlyArray<readonly [string, string]>): string[] =>
  paths.map(([a, b]) => textAt(payload, a, b)).filter((url): url is string => url !== null)

/**
 * Comments not written by the server's own account(s): the agent must never be fed its own
 * replies, or a reply would start the next round by itself. Logins compare case-insensitively.
 */
export const commentsFromOthers = (
  comments: readonly ReviewComment[],
  ownLogins: readonly string[],
): ReviewComment[] => {
  const own = new Set(ownLogins.map((login) => login.toLowerCase()))
  return comments.filter((c) => c.author === null || !own.has(c.author.toLowerCase()))
}

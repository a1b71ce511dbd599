/** Pull/merge requests on the code host, as the open_pr job needs them. */

export const CODE_HOST_PROVIDERS = ['github', 'gitlab'] as const
export type CodeHostProvider = (typeof CODE_HOST_PROVIDERS)[number]

/** A pull request (GitHub) or merge request (GitLab): its number (iid on GitLab) and web URL. */
export interface PullRequestRef {
  readonly number: number
  readonly url: string
}

export interface PullRequestSpec {
  /** Repository path on the host: `[owner, repo]`, or GitLab's groups then project. */
  readonly repository: readonly string[]
  readonly head: string
  readonly base: string
  readonly title: string
  readonly body: string
}

/** One host's API, authenticated with its token (never logged, never passed to agents). */
export interface CodeHost {
  readonly provider: CodeHostProvider
  /** The open PR/MR whose source branch is `head`, or null. */
  findOpen(spec: PullRequestSpec, signal: AbortSignal): Promise<PullRequestRef | null>
  /** Opens a draft PR/MR. */
  createDraft(spec: PullRequestSpec, signal: AbortSignal): Promise<PullRequestRef>
}

/** The configured hosts; a provider without a token is absent. */
export interface CodeHosts {
  get(provider: CodeHostProvider): CodeHost | undefined
}

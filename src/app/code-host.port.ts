/** Pull/merge requests and CI pipelines on the code host, as open_pr and `ci trigger` need them. */

export const CODE_HOST_PROVIDERS = ['github', 'gitlab'] as const
export type CodeHostProvider = (typeof CODE_HOST_PROVIDERS)[number]

/** How a host is reached: its REST API with a configured token, or the `gh`/`glab` CLI's own login. */
export type CodeHostChannel = 'api' | 'cli'

/** A pull request (GitHub) or merge request (GitLab): its number (iid on GitLab) and web URL. */
export interface PullRequestRef {
  readonly number: number
  readonly url: string
}

/** A repository on a host. */
export interface HostRepository {
  /** Repository path on the host: `[owner, repo]`, or GitLab's groups then project. */
  readonly repository: readonly string[]
  /** The host name from the git URL (`github.com`, `gitlab.example.com`); the CLIs need it. */
  readonly hostName?: string
}

export interface PullRequestSpec extends HostRepository {
  readonly head: string
  readonly base: string
  readonly title: string
  readonly body: string
}

export interface PipelineSpec extends HostRepository {
  /** The branch to run CI on. */
  readonly ref: string
  /** GitHub workflow file name or id to dispatch; GitLab runs the project's pipeline and ignores it. */
  readonly workflow: string
}

/** A started pipeline: GitLab's id and page; GitHub's dispatch answers with neither. */
export interface PipelineRef {
  readonly id: number | null
  readonly url: string | null
}

/** One host, authenticated by its token or its CLI's login (never logged, never passed to agents). */
export interface CodeHost {
  readonly provider: CodeHostProvider
  readonly via: CodeHostChannel
  /** The open PR/MR whose source branch is `head`, or null. */
  findOpen(spec: PullRequestSpec, signal: AbortSignal): Promise<PullRequestRef | null>
  /** Opens a draft PR/MR. */
  createDraft(spec: PullRequestSpec, signal: AbortSignal): Promise<PullRequestRef>
  /** Starts CI on a branch: GitHub's workflow_dispatch of `workflow`, or a new GitLab pipeline. */
  triggerPipeline(spec: PipelineSpec, signal: AbortSignal): Promise<PipelineRef>
}

/** The reachable hosts: a provider with a token uses its API, else its CLI when installed, else is absent. */
export interface CodeHosts {
  get(provider: CodeHostProvider): CodeHost | undefined
}

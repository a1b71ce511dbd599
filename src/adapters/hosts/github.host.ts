import { Octokit } from '@octokit/rest'
import type { CodeHost, HostRepository } from '../../app/code-host.port.js'

export interface GithubHostOptions {
  readonly token: string
  /** REST API root (GitHub Enterprise, or a local fake in tests); default api.github.com. */
  readonly baseUrl?: string
}

const ownerAndRepo = (spec: HostRepository): { owner: string; repo: string } => {
  const [owner, repo] = spec.repository
  if (!owner || !repo || spec.repository.length !== 2)
    throw new Error(`GitHub repository path must be owner/repo, not ${spec.repository.join('/')}`)
  return { owner, repo }
}

/** GitHub pull requests through the REST API (@octokit/rest). */
export const createGithubHost = (options: GithubHostOptions): CodeHost => {
  const octokit = new Octokit({ auth: options.token, baseUrl: options.baseUrl ?? 'https://api.github.com' })
  return {
    provider: 'github',
    via: 'api',
    async findOpen(spec, signal) {
      const { owner, repo } = ownerAndRepo(spec)
      const { data } = await octokit.rest.pulls.list({
        owner,
        repo,
        head: `${owner}:${spec.head}`,
        state: 'open',
        request: { signal },
      })
      const found = data[0]
      return found ? { number: found.number, url: found.html_url } : null
    },
    async createDraft(spec, signal) {
      const { owner, repo } = ownerAndRepo(spec)
      const { data } = await octokit.rest.pulls.create({
        owner,
        repo,
        head: spec.head,
        base: spec.base,
        title: spec.title,
        body: spec.body,
        draft: true,
        request: { signal },
      })
      return { number: data.number, url: data.html_url }
    },
    async triggerPipeline(spec, signal) {
      const { owner, repo } = ownerAndRepo(spec)
      await octokit.rest.actions.createWorkflowDispatch({
        owner,
        repo,
        workflow_id: spec.workflow,
        ref: spec.ref,
        request: { signal },
      })
      // The dispatch answers 204 without the run it starts; the workflow's page lists it.
      const web = options.baseUrl
        ? null
        : `https://github.com/${owner}/${repo}/actions/workflows/${spec.workflow}`
      return { id: null, url: web }
    },
  }
}

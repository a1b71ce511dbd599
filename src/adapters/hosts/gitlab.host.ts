import { Gitlab } from '@gitbeaker/rest'
import type { CodeHost } from '../../app/code-host.port.js'

export interface GitlabHostOptions {
  readonly token: string
  /** Instance root (self-hosted, or a local fake in tests); default https://gitlab.com. */
  readonly host?: string
}

interface PipelineShape {
  readonly id: number
  readonly web_url: string
}

interface MergeRequestShape {
  readonly iid: number
  readonly web_url: string
}

/** GitLab merge requests through the REST API (@gitbeaker/rest). */
export const createGitlabHost = (options: GitlabHostOptions): CodeHost => {
  const api = new Gitlab({ token: options.token, host: options.host ?? 'https://gitlab.com' })
  return {
    provider: 'gitlab',
    via: 'api',
    async findOpen(spec) {
      const found = (await api.MergeRequests.all({
        projectId: spec.repository.join('/'),
        sourceBranch: spec.head,
        state: 'opened',
      })) as unknown as MergeRequestShape[] // gitbeaker's union of pagination shapes; we ask for a plain list
      const first = found[0]
      return first ? { number: first.iid, url: first.web_url } : null
    },
    async createDraft(spec) {
      const created = (await api.MergeRequests.create(
        spec.repository.join('/'),
        spec.head,
        spec.base,
        `Draft: ${spec.title}`,
        { description: spec.body },
      )) as unknown as MergeRequestShape
      return { number: created.iid, url: created.web_url }
    },
    async triggerPipeline(spec) {
      const created = (await api.Pipelines.create(
        spec.repository.join('/'),
        spec.ref,
      )) as unknown as PipelineShape // gitbeaker's expanded/plain union; we ask for the plain body
      return { id: created.id, url: created.web_url }
    },
  }
}

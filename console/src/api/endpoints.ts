import type { ApiClient } from './client.js'
import type {
  ActionResponse,
  BranchesReply,
  ImportBody,
  ImportReply,
  Job,
  NewProjectBody,
  NewProtocolBody,
  OrchestratorEvent,
  Project,
  ProjectPatchBody,
  ProtocolRun,
  ProtocolSpecReply,
  QueueStatsReply,
  StepRun,
} from './types.js'

export const PROTOCOL_ACTIONS = [
  'start',
  'pause',
  'resume',
  'cancel',
  'run_next_step',
  'retry_latest',
  'open_pr',
] as const
export type ProtocolActionName = (typeof PROTOCOL_ACTIONS)[number]

export const STEP_ACTIONS = ['run', 'run_qa', 'approve'] as const
export type StepActionName = (typeof STEP_ACTIONS)[number]

export interface EventQuery {
  readonly project_id?: number
  readonly protocol_run_id?: number
  readonly event_type?: string
  readonly limit?: number
  readonly after_id?: number
  readonly before_id?: number
}

/**
 * Every call the console makes, each with the project it belongs to, so that the project token
 * goes with it and nowhere else. Runs and steps are reached through their project's id, which the
 * console's URLs carry (`#/projects/3/runs/42`).
 */
export const createEndpoints = (api: ApiClient) => {
  const get = <T>(path: string, projectId?: number, query?: Record<string, string | number | undefined>) =>
    api.request<T>('GET', path, { projectId, query })
  const post = <T>(path: string, projectId: number | undefined, body?: unknown) =>
    api.request<T>('POST', path, { projectId, body })

  return {
    projects: () => get<Project[]>('/projects'),
    project: (id: number) => get<Project>(`/projects/${id}`, id),
    createProject: (body: NewProjectBody) => post<Project>('/projects', undefined, body),
    updateProject: (id: number, body: ProjectPatchBody) =>
      api.request<Project>('PATCH', `/projects/${id}`, { projectId: id, body }),
    answerClarifications: (id: number, answers: Record<string, unknown>) =>
      post<Project>(`/projects/${id}/clarifications`, id, { answers }),
    branches: (id: number) => get<BranchesReply>(`/projects/${id}/branches`, id),
    deleteBranch: (id: number, branch: string) =>
      post<{ deleted: boolean; branch: string }>(
        `/projects/${id}/branches/${branch.split('/').map(encodeURIComponent).join('/')}/delete`,
        id,
        { confirm: true },
      ),
    runs: (projectId: number) => get<ProtocolRun[]>(`/projects/${projectId}/protocols`, projectId),
    createRun: (projectId: number, body: NewProtocolBody) =>
      post<ProtocolRun>(`/projects/${projectId}/protocols`, projectId, body),
    importCodeMachine: (projectId: number, body: ImportBody) =>
      post<ImportReply>(`/projects/${projectId}/codemachine/import`, projectId, body),
    run: (projectId: number, runId: number) => get<ProtocolRun>(`/protocols/${runId}`, projectId),
    spec: (projectId: number, runId: number) => get<ProtocolSpecReply>(`/protocols/${runId}/spec`, projectId),
    steps: (projectId: number, runId: number) => get<StepRun[]>(`/protocols/${runId}/steps`, projectId),
    runEvents: (projectId: number, runId: number, limit = 200) =>
      get<OrchestratorEvent[]>(`/protocols/${runId}/events`, projectId, { limit }),
    runAction: (projectId: number, runId: number, action: ProtocolActionName) =>
      post<ActionResponse | ProtocolRun>(`/protocols/${runId}/actions/${action}`, projectId),
    step: (projectId: number, stepId: number) => get<StepRun>(`/steps/${stepId}`, projectId),
    stepAction: (projectId: number, stepId: number, action: StepActionName) =>
      post<ActionResponse | StepRun>(`/steps/${stepId}/actions/${action}`, projectId),
    stepLog: (projectId: number, stepId: number) =>
      api.request<string>('GET', `/steps/${stepId}/logs`, { projectId, as: 'text' }),
    events: (query: EventQuery) =>
      get<OrchestratorEvent[]>('/events', query.project_id, { ...query, limit: query.limit ?? 50 }),
    queues: () => get<QueueStatsReply>('/queues'),
    jobs: (status?: string) => get<Job[]>('/queues/jobs', undefined, { status }),
    metrics: () => api.request<string>('GET', '/metrics', { as: 'text' }),
    health: () => get<{ status: string }>('/health'),
  }
}

export type Endpoints = ReturnType<typeof createEndpoints>

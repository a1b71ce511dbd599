/**
 * Wire shapes of the TasksGodzilla API (reference §2.3), as the console reads them. Fields the
 * re-implementation added are optional so the console also works against an older server.
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }
export type JsonObject = { [key: string]: JsonValue }

export const PROTOCOL_STATUSES = [
  'pending',
  'planning',
  'planned',
  'running',
  'paused',
  'blocked',
  'failed',
  'cancelled',
  'completed',
] as const
export type ProtocolStatus = (typeof PROTOCOL_STATUSES)[number]

export const STEP_STATUSES = [
  'pending',
  'running',
  'needs_qa',
  'waiting_quota',
  'completed',
  'failed',
  'cancelled',
  'blocked',
] as const
export type StepStatus = (typeof STEP_STATUSES)[number]

/**
 * What `/queues/jobs` reports and filters on: the stored statuses plus `delayed` (a queued retry
 * waiting for its backoff). `held` jobs belong to a paused run.
 */
export const JOB_STATUSES = [
  'queued',
  'started',
  'delayed',
  'held',
  'finished',
  'failed',
  'cancelled',
] as const
export type JobStatus = (typeof JOB_STATUSES)[number]

/** Timestamps arrive as ISO strings, `YYYY-MM-DD HH:MM:SS` (UTC) or epoch seconds (jobs). */
export type WireTime = string | number | null

export interface Project {
  readonly id: number
  readonly name: string
  readonly git_url: string
  readonly local_path: string | null
  readonly base_branch: string
  readonly ci_provider: string | null
  readonly default_models: JsonObject | null
  /** Engine/model fallback chain for step execution, tried in order (read-only here). */
  readonly engines?: readonly { readonly engine: string; readonly model: string | null }[] | null
  readonly has_api_token?: boolean
  readonly clarifications?: JsonObject | null
  /** `reopen_last_step` or `new_step`; null: the server default. */
  readonly review_mode?: string | null
  readonly created_at: WireTime
  readonly updated_at: WireTime
}

export interface ProtocolRun {
  readonly id: number
  readonly project_id: number
  readonly protocol_name: string
  readonly status: ProtocolStatus
  readonly base_branch: string
  readonly branch_name?: string | null
  readonly worktree_path: string | null
  readonly protocol_root: string | null
  readonly description: string | null
  readonly template_config: JsonObject | null
  readonly template_source: JsonObject | null
  readonly spec_hash: string | null
  readonly spec_validation_status: string | null
  readonly spec_validated_at: WireTime
  readonly pr_url?: string | null
  readonly pr_number?: number | null
  readonly tokens_used?: number | null
  readonly cost?: number | null
  readonly created_at: WireTime
  readonly updated_at: WireTime
}

export interface StepRun {
  readonly id: number
  readonly protocol_run_id: number
  readonly step_index: number
  readonly step_name: string
  readonly step_type: string
  readonly status: StepStatus
  readonly model: string | null
  readonly engine_id: string | null
  readonly summary: string | null
  readonly retries: number
  readonly policy: JsonValue | null
  readonly runtime_state: JsonObject | null
  readonly tokens_used?: number | null
  readonly cost?: number | null
  readonly head_sha?: string | null
  readonly created_at: WireTime
  readonly updated_at: WireTime
}

export interface OrchestratorEvent {
  readonly id: number
  readonly protocol_run_id: number | null
  readonly step_run_id: number | null
  readonly event_type: string
  readonly message: string
  readonly metadata: JsonObject | null
  readonly created_at: WireTime
  readonly protocol_name?: string | null
  readonly project_id?: number | null
  readonly project_name?: string | null
}

export interface Job {
  readonly job_id: string
  readonly job_type: string
  readonly payload: JsonObject
  readonly status: string
  readonly queue: string
  readonly attempts: number
  readonly max_attempts: number
  readonly created_at: WireTime
  readonly started_at: WireTime
  readonly ended_at: WireTime
  readonly error: string | null
  readonly result?: JsonValue
}

export interface ActionResponse {
  readonly message: string
  readonly job: Job | null
}

export interface ProtocolSpecReply {
  readonly protocol_run_id: number
  readonly protocol_name: string
  readonly spec: JsonObject | null
  readonly spec_hash: string | null
  readonly validation_status: string | null
  readonly validation_errors: string[] | null
  readonly validated_at: WireTime
}

/** `GET /queues`: `{backend, <queue name>: {queued, started, finished, failed, ...}}`. */
export type QueueStatsReply = { readonly backend?: string } & Record<string, unknown>

export interface BranchesReply {
  readonly branches: string[]
}

export interface ImportReply {
  readonly protocol_run: ProtocolRun
  readonly job: Job | null
  readonly message: string
}

export interface NewProjectBody {
  name: string
  git_url: string
  local_path?: string | null
  base_branch?: string
  ci_provider?: string | null
  default_models?: JsonObject | null
  secrets?: JsonObject | null
  review_mode?: string | null
}

export type ProjectPatchBody = Partial<Omit<NewProjectBody, 'secrets' | 'git_url'>> & {
  api_token?: string | null
  /** Asks the server to generate a token, returned once as `api_token`. */
  rotate_api_token?: boolean
}

export interface NewProtocolBody {
  protocol_name: string
  status: 'pending'
  base_branch?: string
  description?: string | null
}

export interface ImportBody {
  protocol_name: string
  workspace_path: string
  base_branch?: string
  description?: string | null
  enqueue: boolean
}

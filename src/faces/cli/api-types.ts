/** The JSON shapes the CLI reads from the API (a subset of each; the rest is passed through). */

export interface ProjectOut {
  readonly id: number
  readonly name: string
  readonly git_url: string
  readonly local_path: string | null
  readonly base_branch: string
  readonly ci_provider: string | null
  readonly default_models: Record<string, unknown> | null
  readonly engines?: readonly { readonly engine: string; readonly model: string | null }[] | null
  readonly has_api_token: boolean
  readonly clarifications: Record<string, unknown> | null
  /** null: the server's TASKSGODZILLA_REVIEW_MODE. */
  readonly review_mode: string | null
  readonly created_at: string
  readonly updated_at: string
}

export interface RunOut {
  readonly id: number
  readonly project_id: number
  readonly protocol_name: string
  readonly status: string
  readonly base_branch: string
  readonly branch_name?: string
  readonly description: string | null
  readonly pr_url?: string | null
  readonly tokens_used?: number
  readonly cost?: number
  readonly spec_hash: string | null
  readonly spec_validation_status: string | null
  readonly spec_validated_at: string | null
  readonly created_at: string
  readonly updated_at: string
}

export interface StepOut {
  readonly id: number
  readonly protocol_run_id: number
  readonly step_index: number
  readonly step_name: string
  readonly step_type: string
  readonly status: string
  readonly retries: number
  readonly model: string | null
  readonly engine_id: string | null
  readonly summary: string | null
  readonly tokens_used?: number
  readonly created_at: string
  readonly updated_at: string
}

export interface EventOut {
  readonly id: number
  readonly protocol_run_id: number | null
  readonly step_run_id: number | null
  readonly event_type: string
  readonly message: string
  readonly created_at: string
  readonly metadata: Record<string, unknown> | null
  readonly protocol_name: string | null
  readonly project_id: number
  readonly project_name: string | null
}

export interface JobOut {
  readonly job_id: string
  readonly job_type: string
  readonly status: string
  readonly queue: string
  readonly attempts: number
  readonly created_at: number
  readonly error: string | null
}

export interface ActionReply {
  readonly message: string
  readonly job: JobOut | null
}

export interface SpecOut {
  readonly protocol_run_id: number
  readonly protocol_name: string
  readonly spec: Record<string, unknown> | null
  readonly spec_hash: string | null
  readonly validation_status: string | null
  readonly validation_errors: string[] | null
  readonly validated_at: string | null
}

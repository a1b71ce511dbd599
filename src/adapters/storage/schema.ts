import type { ColumnType, Generated } from 'kysely'

/** Timestamps are written as ISO strings; Postgres hands them back as Date, SQLite as the string. */
export type Timestamp = ColumnType<string | Date, string, string>
export type NullableTimestamp = ColumnType<string | Date | null, string | null | undefined, string | null>
/** JSON columns travel as serialized text in both directions on both dialects (see database.ts). */
export type JsonText = string | null

export interface ProjectsTable {
  id: Generated<number>
  name: string
  git_url: string
  base_branch: string
  local_path: string | null
  ci_provider: string | null
  secrets: JsonText
  api_token_hash: string | null
  default_models: JsonText
  engines: JsonText
  clarifications: JsonText
  review_mode: string | null
  created_at: Timestamp
  updated_at: Timestamp
  /** Postgres: the last writing transaction's id, the row's read-scope stamp; always 0 on SQLite. */
  txid: Generated<number>
}

export interface ProtocolRunsTable {
  id: Generated<number>
  project_id: number
  protocol_name: string
  status: string
  base_branch: string
  branch_name: string
  worktree_path: string | null
  protocol_root: string | null
  description: string | null
  template_config: JsonText
  template_source: JsonText
  pr_url: string | null
  pr_number: number | null
  tokens_used: ColumnType<number, number | undefined, number>
  cost_usd: ColumnType<number, number | undefined, number>
  created_at: Timestamp
  updated_at: Timestamp
  /** Postgres: the last writing transaction's id, the row's read-scope stamp; always 0 on SQLite. */
  txid: Generated<number>
}

export interface StepRunsTable {
  id: Generated<number>
  protocol_run_id: number
  step_index: number
  step_name: string
  step_type: string
  status: string
  retries: ColumnType<number, number | undefined, number>
  model: string | null
  engine_id: string | null
  engines: JsonText
  policy: JsonText
  runtime_state: JsonText
  summary: string | null
  tokens_used: ColumnType<number, number | undefined, number>
  cost_usd: ColumnType<number, number | undefined, number>
  head_sha: string | null
  head_seq: ColumnType<number | null, number | null | undefined, number | null>
  created_at: Timestamp
  updated_at: Timestamp
  /** Postgres: the last writing transaction's id, the row's read-scope stamp; always 0 on SQLite. */
  txid: Generated<number>
}

export interface EventsTable {
  id: Generated<number>
  project_id: number
  protocol_run_id: number | null
  step_run_id: number | null
  event_type: string
  message: string
  metadata: JsonText
  created_at: Timestamp
  /** Postgres: the writing transaction's id (position `(txid, id)`); always 0 on SQLite. */
  txid: Generated<number>
}

/** SQLite: a counter per read scope (`run`, `project`, `runs` of a project), moved by triggers. */
export interface ReadScopesTable {
  kind: string
  id: number
  version: number
}

export interface JobsTable {
  id: string
  job_type: string
  payload: string
  status: string
  queue: string
  attempts: ColumnType<number, number | undefined, number>
  max_attempts: number
  next_run_at: Timestamp
  created_at: Timestamp
  started_at: NullableTimestamp
  ended_at: NullableTimestamp
  result: JsonText
  error: string | null
  meta: JsonText
  project_id: number | null
  protocol_run_id: number | null
  step_run_id: number | null
  locked_by: string | null
  locked_until: NullableTimestamp
  relayed_at: NullableTimestamp
}

export interface WebhookDeliveriesTable {
  provider: string
  delivery_id: string
  received_at: Timestamp
}

export interface NotificationTargetsTable {
  id: Generated<number>
  project_id: number
  url: string
  secret: string | null
  events: JsonText
  format: string
  /** 0 or 1 on both dialects. */
  enabled: number
  created_at: Timestamp
  updated_at: Timestamp
}

export interface NotificationDeliveriesTable {
  id: Generated<number>
  project_id: number
  target_id: number | null
  notification_type: string
  payload: string
  status: string
  attempts: ColumnType<number, number | undefined, number>
  last_status_code: number | null
  last_error: string | null
  created_at: Timestamp
  updated_at: Timestamp
  delivered_at: NullableTimestamp
}

/** Which step (and execute job) holds a run's worktree; one row per run at most. */
export interface RunLeasesTable {
  protocol_run_id: number
  step_run_id: number
  job_id: string
  acquired_at: Timestamp
  /** Moved by every take (migration `run-lease-version`): what a take compares and sets. */
  version: Generated<number>
  /** Run-level work holding the worktree in the step's name (migration `run-lease-held-for`). */
  held_for: string | null
}

/** The global per-engine circuit breaker (usage and rate limits). */
export interface McpTasksTable {
  task_id: string
  owner_hash: string
  status: string
  status_message: string | null
  ttl_ms: number | null
  poll_interval_ms: number
  result: string | null
  created_at: Timestamp
  updated_at: Timestamp
  expires_at: Timestamp
}

export interface EngineLimitsTable {
  engine_id: string
  limited_until: Timestamp
  reason: string
  updated_at: Timestamp
}

export interface ReviewCommentsTable {
  id: Generated<number>
  protocol_run_id: number
  provider: string
  comment_key: string
  author: string | null
  body: string
  path: string | null
  line: number | null
  url: string | null
  review_state: string | null
  received_at: Timestamp
  step_run_id: number | null
  consumed_at: NullableTimestamp
}

export interface ReviewWindowsTable {
  protocol_run_id: number
  job_id: string | null
  windows: ColumnType<number, number | undefined, number>
  rounds: ColumnType<number, number | undefined, number>
}

export interface Database {
  projects: ProjectsTable
  protocol_runs: ProtocolRunsTable
  step_runs: StepRunsTable
  events: EventsTable
  jobs: JobsTable
  webhook_deliveries: WebhookDeliveriesTable
  notification_targets: NotificationTargetsTable
  notification_deliveries: NotificationDeliveriesTable
  run_leases: RunLeasesTable
  engine_limits: EngineLimitsTable
  review_comments: ReviewCommentsTable
  review_windows: ReviewWindowsTable
  mcp_tasks: McpTasksTable
  read_scopes: ReadScopesTable
}

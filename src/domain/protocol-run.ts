import type { JsonObject } from './json.js'
import type { ProtocolStatus } from './statuses.js'

/** One task: a branch, a worktree and the steps executed on them. */
export interface ProtocolRun {
  readonly id: number
  readonly projectId: number
  readonly protocolName: string
  readonly status: ProtocolStatus
  readonly baseBranch: string
  /** The git branch the run works on; equals the protocol name unless set otherwise. */
  readonly branchName: string
  readonly worktreePath: string | null
  readonly protocolRoot: string | null
  readonly description: string | null
  readonly templateConfig: JsonObject | null
  readonly templateSource: JsonObject | null
  readonly prUrl: string | null
  readonly prNumber: number | null
  readonly tokensUsed: number
  readonly costUsd: number
  readonly createdAt: string
  readonly updatedAt: string
}

export interface NewProtocolRun {
  readonly projectId: number
  readonly protocolName: string
  readonly status: ProtocolStatus
  readonly baseBranch: string
  readonly branchName?: string
  readonly worktreePath?: string | null
  readonly protocolRoot?: string | null
  readonly description?: string | null
  readonly templateConfig?: JsonObject | null
  readonly templateSource?: JsonObject | null
}

/** Fields a status change or a worker may update alongside (never the status itself). */
export type ProtocolRunPatch = Partial<
  Pick<
    ProtocolRun,
    | 'worktreePath'
    | 'protocolRoot'
    | 'description'
    | 'templateConfig'
    | 'templateSource'
    | 'prUrl'
    | 'prNumber'
    | 'tokensUsed'
    | 'costUsd'
    | 'baseBranch'
  >
>

import type { JsonObject } from '../../domain/json.js'

/** MCP task statuses (the protocol's); `completed`, `failed` and `cancelled` are terminal. */
export type McpTaskStatus = 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled'

export interface StoredMcpTask {
  readonly taskId: string
  readonly status: McpTaskStatus
  readonly statusMessage: string | null
  /** How long the task is kept after its creation or last change, in ms. */
  readonly ttlMs: number | null
  readonly pollIntervalMs: number
  readonly result: JsonObject | null
  readonly createdAt: string
  readonly updatedAt: string
}

export interface NewMcpTask {
  readonly taskId: string
  readonly ownerHash: string
  readonly ttlMs: number
  readonly pollIntervalMs: number
}

/**
 * `mcp_tasks`: MCP tasks of the HTTP face, readable from any API instance. Every method takes
 * the caller's owner hash: a task of another owner, or one past its expiry, is not found.
 */
export interface McpTaskRepository {
  /** Stores a `working` task expiring `ttlMs` from now. */
  create(task: NewMcpTask, now: Date): Promise<StoredMcpTask>
  find(taskId: string, ownerHash: string, now: Date): Promise<StoredMcpTask | undefined>
  /**
   * Sets the status (and result or message) only while the task is not terminal, pushing its
   * expiry to `ttl` from now; false when no such task was found in a non-terminal status.
   */
  settle(
    taskId: string,
    ownerHash: string,
    change: { readonly status: McpTaskStatus; readonly result?: JsonObject; readonly message?: string },
    now: Date,
  ): Promise<boolean>
  /** The owner's live tasks, oldest first, after the task `afterTaskId` when given. */
  list(
    ownerHash: string,
    page: { readonly afterTaskId?: string; readonly limit: number },
    now: Date,
  ): Promise<StoredMcpTask[]>
  /** Removes expired tasks of every owner; returns how many. */
  deleteExpired(now: Date): Promise<number>
}

import { randomUUID } from 'node:crypto'
import type { JsonObject } from '../../domain/json.js'
import type { Repositories } from '../ports.js'
import { hashToken } from '../secrets.js'
import type { McpTaskStatus, StoredMcpTask } from './mcp-task.port.js'

/** The default and the longest a task is kept after its last change (the caller may ask for less). */
export const MCP_TASK_TTL_MS = 24 * 3600 * 1000
const MAX_TTL_MS = 7 * 24 * 3600 * 1000
const PAGE_SIZE = 20

/** The credentials an MCP request came with; only their hash is ever stored. */
export interface McpCaller {
  readonly authorization: string | undefined
  readonly projectToken: string | undefined
}

/** What binds a task to its caller: SHA-256 over the caller's bearer and project token together. */
export const mcpTaskOwner = ({ authorization, projectToken }: McpCaller): string =>
  hashToken(`mcp-task\n${authorization ?? ''}\n${projectToken ?? ''}`)

/** The MCP tasks of one caller, over the shared `mcp_tasks` table. */
export interface McpTasks {
  create(options: { readonly ttlMs: number | null; readonly pollIntervalMs: number }): Promise<StoredMcpTask>
  get(taskId: string): Promise<StoredMcpTask | undefined>
  /** Moves a task that is not terminal yet; false when it is gone, another caller's or already terminal. */
  settle(
    taskId: string,
    change: { readonly status: McpTaskStatus; readonly result?: JsonObject; readonly message?: string },
  ): Promise<boolean>
  list(afterTaskId: string | undefined): Promise<{ tasks: StoredMcpTask[]; nextCursor?: string }>
}

/** MCP tasks bound to `caller`: another caller's task is never found, whatever its id. */
export const makeMcpTasks =
  ({ repos }: { readonly repos: Pick<Repositories, 'mcpTasks'> }) =>
  (caller: McpCaller): McpTasks => {
    const owner = mcpTaskOwner(caller)
    const store = repos.mcpTasks
    return {
      async create({ ttlMs, pollIntervalMs }) {
        const now = new Date()
        // Housekeeping on the write path: expired tasks of anyone go, so the table stays small.
        await store.deleteExpired(now)
        const ttl = Math.min(Math.max(ttlMs ?? MCP_TASK_TTL_MS, 1000), MAX_TTL_MS)
        return store.create({ taskId: randomUUID(), ownerHash: owner, ttlMs: ttl, pollIntervalMs }, now)
      },
      get: (taskId) => store.find(taskId, owner, new Date()),
      settle: (taskId, change) => store.settle(taskId, owner, change, new Date()),
      async list(afterTaskId) {
        const page = await store.list(owner, { afterTaskId, limit: PAGE_SIZE + 1 }, new Date())
        const tasks = page.slice(0, PAGE_SIZE)
        return page.length > PAGE_SIZE ? { tasks, nextCursor: tasks[tasks.length - 1]?.taskId } : { tasks }
      },
    }
  }

import type { TaskStore } from '@modelcontextprotocol/sdk/experimental/tasks'
import type { Result, Task } from '@modelcontextprotocol/sdk/types.js'
import type { McpTasks } from '../../app/mcp/mcp-tasks.js'
import type { StoredMcpTask } from '../../app/mcp/mcp-task.port.js'
import type { JsonObject } from '../../domain/json.js'

/**
 * The SDK's TaskStore over the shared `mcp_tasks` table, for one caller (`tasks` is bound to
 * its credentials): any API instance answers `tasks/get` and `tasks/result` for a task another
 * created, and a task of another caller is "not found". The SDK's session id is not used: the
 * HTTP face is stateless, so the caller's credentials are the binding.
 */
export const createDbTaskStore = (tasks: McpTasks): TaskStore => ({
  async createTask(params) {
    return toSdkTask(
      await tasks.create({ ttlMs: params.ttl ?? null, pollIntervalMs: params.pollInterval ?? 2000 }),
    )
  },
  async getTask(taskId) {
    const task = await tasks.get(taskId)
    return task ? toSdkTask(task) : null
  },
  async storeTaskResult(taskId, status, result) {
    if (!(await tasks.settle(taskId, { status, result: result as JsonObject })))
      throw new Error(`Task ${taskId} was not found or is already finished`)
  },
  async getTaskResult(taskId) {
    const task = await tasks.get(taskId)
    if (!task) throw new Error(`Task ${taskId} not found`)
    if (task.result === null) throw new Error(`Task ${taskId} has no result stored`)
    return task.result as Result
  },
  async updateTaskStatus(taskId, status, statusMessage) {
    const change = statusMessage === undefined ? { status } : { status, message: statusMessage }
    if (!(await tasks.settle(taskId, change)))
      throw new Error(`Task ${taskId} was not found or is already finished`)
  },
  async listTasks(cursor) {
    const page = await tasks.list(cursor)
    return { tasks: page.tasks.map(toSdkTask), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) }
  },
})

const toSdkTask = (task: StoredMcpTask): Task => ({
  taskId: task.taskId,
  status: task.status,
  ttl: task.ttlMs,
  createdAt: task.createdAt,
  lastUpdatedAt: task.updatedAt,
  pollInterval: task.pollIntervalMs,
  ...(task.statusMessage === null ? {} : { statusMessage: task.statusMessage }),
})

import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { TaskStore } from '@modelcontextprotocol/sdk/experimental/tasks'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'
import { ApiCallError, type ApiCaller } from './api-caller.js'

/** Statuses where a run waits for nobody but a human, or is over. */
const SETTLED = new Set(['completed', 'failed', 'cancelled', 'blocked', 'paused'])

interface RunRead {
  readonly status: string
}
interface StepRead {
  readonly status: string
}

/**
 * `watch_run` as an MCP task (SDK 1.32 experimental tasks): the call returns a task at once and
 * the run is polled through the API until it settles (completed, failed, cancelled, blocked,
 * paused) or a step waits at a human QA gate (`needs_qa`), or `timeout_seconds` pass; the task's
 * result is the run and its steps then. Clients without task support get the same answer from
 * the SDK's automatic polling. The result goes straight to `store` (not the request's view of
 * it, which would also notify a transport that, over stateless HTTP, closed with the request).
 */
export const registerWatchRunTask = (
  server: McpServer,
  call: ApiCaller,
  store: Pick<TaskStore, 'storeTaskResult'>,
): void => {
  server.experimental.tasks.registerToolTask(
    'watch_run',
    {
      title: 'Watch a run',
      description:
        'Follows a run until it completes, fails, is cancelled, blocks, pauses or waits at a QA gate; returns it then.',
      inputSchema: {
        protocol_run_id: z.number().int().positive(),
        timeout_seconds: z.number().int().min(1).max(86_400).default(3600),
        poll_ms: z.number().int().min(100).max(60_000).default(2000),
      },
      execution: { taskSupport: 'optional' },
    },
    {
      createTask: async ({ protocol_run_id, timeout_seconds, poll_ms }, { taskStore, taskRequestedTtl }) => {
        const task = await taskStore.createTask({ ttl: taskRequestedTtl ?? null, pollInterval: poll_ms })
        void follow(call, store, task.taskId, {
          runId: protocol_run_id,
          timeoutMs: timeout_seconds * 1000,
          pollMs: poll_ms,
        })
        return { task }
      },
      getTask: async (_args, { taskId, taskStore }) => taskStore.getTask(taskId),
      getTaskResult: async (_args, { taskId, taskStore }) =>
        (await taskStore.getTaskResult(taskId)) as CallToolResult,
    },
  )
}

const follow = async (
  call: ApiCaller,
  store: Pick<TaskStore, 'storeTaskResult'>,
  taskId: string,
  {
    runId,
    timeoutMs,
    pollMs,
  }: { readonly runId: number; readonly timeoutMs: number; readonly pollMs: number },
): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  try {
    for (;;) {
      const run = (await call('GET', `/protocols/${runId}`)) as RunRead
      const steps = (await call('GET', `/protocols/${runId}/steps`)) as StepRead[]
      const gate = steps.some((step) => step.status === 'needs_qa')
      if (SETTLED.has(run.status) || gate || Date.now() >= deadline) {
        const why = SETTLED.has(run.status) ? run.status : gate ? 'needs_qa' : 'timeout'
        await store.storeTaskResult(taskId, 'completed', text({ settled: why, run, steps }))
        return
      }
      // Unref'd: a watch still pending must not keep `tasksgodzilla mcp` alive after its client left.
      await new Promise((resolve) => setTimeout(resolve, pollMs).unref())
    }
  } catch (error) {
    const message =
      error instanceof ApiCallError ? `TasksGodzilla API refused: ${error.message}` : String(error)
    await store.storeTaskResult(taskId, 'failed', { ...text(message), isError: true }).catch(() => undefined)
  }
}

const text = (value: unknown): CallToolResult => ({
  content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value, null, 2) }],
})

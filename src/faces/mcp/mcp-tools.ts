import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'
import { InMemoryTaskStore } from '@modelcontextprotocol/sdk/experimental/tasks/stores/in-memory.js'
import type { TaskStore } from '@modelcontextprotocol/sdk/experimental/tasks'
import { ApiCallError, type ApiCaller } from './api-caller.js'
import { registerWatchRunTask } from './watch-run.task.js'

const Id = z.number().int().positive()
const SERVER_INFO = { name: 'tasksgodzilla', version: '0.1.0' }

/**
 * An MCP server whose tools are thin calls of the REST API through `call`: list projects and
 * runs, create and start a run, read a run (status, steps, recent events), approve a step at a
 * QA gate, answer a project's clarifications. API refusals come back as tool errors carrying the
 * API's status and message. With a task store `watch_run` is offered as an MCP task as well: stdio
 * passes `'memory'` (one server per client, so an in-memory store lives exactly as long as its
 * client); `/mcp` passes the caller's view of the shared database store.
 */
export const createMcpServer = (
  call: ApiCaller,
  options: { readonly tasks?: TaskStore | 'memory' } = {},
): McpServer => {
  const store = options.tasks === 'memory' ? new InMemoryTaskStore() : options.tasks
  const server = store
    ? new McpServer(SERVER_INFO, {
        capabilities: { tasks: { requests: { tools: { call: {} } } } },
        taskStore: store,
      })
    : new McpServer(SERVER_INFO)
  registerReadTools(server, call)
  registerRunTools(server, call)
  registerGateTools(server, call)
  if (store) registerWatchRunTask(server, call, store)
  return server
}

const registerReadTools = (server: McpServer, call: ApiCaller): void => {
  server.registerTool(
    'list_projects',
    { title: 'List projects', description: 'Projects this caller may see, newest first.', inputSchema: {} },
    () => toResult(() => call('GET', '/projects')),
  )
  server.registerTool(
    'list_runs',
    {
      title: 'List runs',
      description: 'Protocol runs of a project, newest first.',
      inputSchema: { project_id: Id },
    },
    ({ project_id }) => toResult(() => call('GET', `/projects/${project_id}/protocols`)),
  )
  server.registerTool(
    'get_run',
    {
      title: 'Read a run',
      description: "A run's status, its steps and its latest events (newest first).",
      inputSchema: { protocol_run_id: Id, events_limit: z.number().int().min(0).max(500).default(20) },
    },
    ({ protocol_run_id: id, events_limit: limit }) =>
      toResult(async () => ({
        run: await call('GET', `/protocols/${id}`),
        steps: await call('GET', `/protocols/${id}/steps`),
        events: limit === 0 ? [] : await call('GET', `/protocols/${id}/events?limit=${limit}`),
      })),
  )
}

const registerRunTools = (server: McpServer, call: ApiCaller): void => {
  server.registerTool(
    'create_run',
    {
      title: 'Create and start a run',
      description: 'Creates a protocol run in a project and (unless start is false) starts its planning.',
      inputSchema: {
        project_id: Id,
        protocol_name: z.string().min(1).max(100),
        description: z.string().max(20_000).optional(),
        base_branch: z.string().min(1).max(200).optional(),
        start: z.boolean().default(true),
      },
    },
    ({ project_id, start, ...fields }) =>
      toResult(async () => {
        const run = (await call('POST', `/projects/${project_id}/protocols`, fields)) as { id: number }
        if (!start) return { run }
        return { run, started: await call('POST', `/protocols/${run.id}/actions/start`, {}) }
      }),
  )
  server.registerTool(
    'start_run',
    {
      title: 'Start a run',
      description: 'Starts (or re-plans) a run.',
      inputSchema: { protocol_run_id: Id },
    },
    ({ protocol_run_id }) => toResult(() => call('POST', `/protocols/${protocol_run_id}/actions/start`, {})),
  )
}

const registerGateTools = (server: McpServer, call: ApiCaller): void => {
  server.registerTool(
    'approve_step',
    {
      title: 'Approve a QA gate',
      description:
        'Marks a step completed by hand (a manual QA gate), then completes the run if it was the last.',
      inputSchema: { step_run_id: Id },
    },
    ({ step_run_id }) => toResult(() => call('POST', `/steps/${step_run_id}/actions/approve`, {})),
  )
  server.registerTool(
    'answer_clarifications',
    {
      title: 'Answer clarifications',
      description: "Answers a project's onboarding clarifications (question key → answer).",
      inputSchema: { project_id: Id, answers: z.record(z.string(), z.unknown()) },
    },
    ({ project_id, answers }) =>
      toResult(() => call('POST', `/projects/${project_id}/clarifications`, { answers })),
  )
}

const toResult = async (run: () => Promise<unknown>): Promise<CallToolResult> => {
  try {
    const value = await run()
    return {
      content: [{ type: 'text', text: JSON.stringify(value, null, 2) }],
      structuredContent: { result: value as never },
    }
  } catch (error) {
    if (!(error instanceof ApiCallError)) throw error
    return {
      isError: true,
      content: [{ type: 'text', text: `TasksGodzilla API refused: ${error.message}` }],
    }
  }
}

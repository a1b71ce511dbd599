import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js'
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../../src/config.js'
import { createLogger } from '../../../src/logging.js'
import { startServer, type RunningServer } from '../../../src/composition/index.js'
import { silentStream } from '../../support/api.js'
import { unique } from '../../support/fixtures.js'
import { removeDir, tempDir } from '../../support/git-repos.js'

const TOKEN = 'mcp-api-token-5b2e'
const CLI = fileURLToPath(new URL('../../../src/faces/cli/main.ts', import.meta.url))
const TOOLS = [
  'answer_clarifications',
  'approve_step',
  'create_run',
  'get_run',
  'list_projects',
  'list_runs',
  'start_run',
]
/** Both faces offer the task-based watch_run (stdio in memory, /mcp in the shared database store). */
const TOOLS_BY_TRANSPORT: Record<string, string[]> = {
  'streamable HTTP': [...TOOLS, 'watch_run'].sort(),
  stdio: [...TOOLS, 'watch_run'].sort(),
}

interface ToolText {
  readonly isError?: boolean
  readonly content: Array<{ type: string; text?: string }>
}

describe('the MCP faces against a real listening server', () => {
  const dir = tempDir('tgz-mcp-')
  let running: RunningServer
  let projectId: number
  beforeAll(async () => {
    const config = loadConfig(
      { TASKSGODZILLA_DB_PATH: join(dir, 'db.sqlite'), TASKSGODZILLA_API_TOKEN: TOKEN },
      dir,
    )
    // No job runs: a started run stays in `planning`, which is what the tools should read back.
    running = await startServer(config, createLogger(config, silentStream()), { port: 0, runJobs: false })
    const response = await fetch(`${running.address}/projects`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ name: `mcp-${unique()}`, git_url: '/srv/repos/demo' }),
    })
    projectId = ((await response.json()) as { id: number }).id
  })
  afterAll(async () => {
    await running.stop()
    removeDir(dir)
  })

  it('answers 401 on /mcp without the bearer token, before any MCP exchange', async () => {
    const response = await fetch(`${running.address}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    })
    expect(response.status).toBe(401)
    const client = new Client({ name: 'test', version: '1' })
    await expect(
      client.connect(new StreamableHTTPClientTransport(new URL(`${running.address}/mcp`))),
    ).rejects.toThrow(/401|Unauthorized/)
  })

  const transports: Record<string, () => Transport> = {
    'streamable HTTP': () =>
      new StreamableHTTPClientTransport(new URL(`${running.address}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${TOKEN}` } },
      }),
    stdio: () =>
      new StdioClientTransport({
        command: process.execPath,
        args: ['--import', 'tsx', CLI, 'mcp'],
        env: { ...inherited(), TASKSGODZILLA_API_BASE: running.address, TASKSGODZILLA_API_TOKEN: TOKEN },
        stderr: 'pipe',
      }),
  }

  for (const [name, makeTransport] of Object.entries(transports)) {
    it(`over ${name}: lists the tools, creates and starts a run, and reads its status and steps`, async () => {
      const client = new Client({ name: 'test', version: '1' })
      await client.connect(makeTransport())
      try {
        const tools = await client.listTools()
        expect(tools.tools.map((tool) => tool.name).sort()).toEqual(TOOLS_BY_TRANSPORT[name])
        const projects = parse(await client.callTool({ name: 'list_projects', arguments: {} })) as Array<{
          id: number
        }>
        expect(projects.map((p) => p.id)).toContain(projectId)
        const created = parse(
          await client.callTool({
            name: 'create_run',
            arguments: { project_id: projectId, protocol_name: `0001-${unique()}`, description: 'From MCP' },
          }),
        ) as { run: { id: number }; started: { message: string } }
        expect(created.started.message).toMatch(/planning/i)
        const read = parse(
          await client.callTool({ name: 'get_run', arguments: { protocol_run_id: created.run.id } }),
        ) as {
          run: { status: string; description: string }
          steps: unknown[]
          events: Array<{ event_type: string }>
        }
        expect(read.run).toMatchObject({ status: 'planning', description: 'From MCP' })
        expect(read.steps).toEqual([])
        expect(read.events.map((e) => e.event_type)).toContain('planning_enqueued')
        const runs = parse(
          await client.callTool({ name: 'list_runs', arguments: { project_id: projectId } }),
        ) as Array<{
          id: number
        }>
        expect(runs.map((r) => r.id)).toContain(created.run.id)
        const missing = (await client.callTool({
          name: 'get_run',
          arguments: { protocol_run_id: 999_999 },
        })) as ToolText
        expect(missing.isError).toBe(true)
        expect(missing.content[0]?.text).toContain('HTTP 404')
      } finally {
        await client.close()
      }
    }, 30_000)
  }

  it('over stdio: watch_run runs as an MCP task and returns once the run settles (here: cancelled)', async () => {
    const client = new Client({ name: 'test', version: '1' })
    await client.connect(transports.stdio!())
    try {
      const run = parse(
        await client.callTool({
          name: 'create_run',
          arguments: { project_id: projectId, protocol_name: `0002-${unique()}` },
        }),
      ) as { run: { id: number } }
      // The client learns from the tool list that watch_run supports tasks, and asks for one.
      await client.listTools()
      const seen: string[] = []
      let result: ToolText | undefined
      const stream = client.experimental.tasks.callToolStream({
        name: 'watch_run',
        arguments: { protocol_run_id: run.run.id, poll_ms: 100 },
      })
      for await (const message of stream) {
        seen.push(message.type)
        if (message.type === 'taskCreated')
          await fetch(`${running.address}/protocols/${run.run.id}/actions/cancel`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
            body: '{}',
          })
        if (message.type === 'result') result = message.result as ToolText
        if (message.type === 'error') throw message.error
      }
      expect(seen[0]).toBe('taskCreated')
      const settled = JSON.parse(result?.content[0]?.text ?? '{}') as {
        settled: string
        run: { status: string }
      }
      expect(settled).toMatchObject({ settled: 'cancelled', run: { status: 'cancelled' } })
    } finally {
      await client.close()
    }
  }, 30_000)

  it('over /mcp: watch_run is a task in the shared store that its caller polls and reads, and another caller cannot', async () => {
    const http = (projectToken?: string) =>
      new StreamableHTTPClientTransport(new URL(`${running.address}/mcp`), {
        requestInit: {
          headers: {
            authorization: `Bearer ${TOKEN}`,
            ...(projectToken ? { 'x-project-token': projectToken } : {}),
          },
        },
      })
    const owner = new Client({ name: 'owner', version: '1' })
    const other = new Client({ name: 'other', version: '1' })
    await owner.connect(http())
    await other.connect(http('another-callers-project-token'))
    try {
      const run = parse(
        await owner.callTool({
          name: 'create_run',
          arguments: { project_id: projectId, protocol_name: `0003-${unique()}` },
        }),
      ) as { run: { id: number } }
      await owner.listTools()
      const stream = owner.experimental.tasks.callToolStream({
        name: 'watch_run',
        arguments: { protocol_run_id: run.run.id, poll_ms: 100 },
      })
      let taskId: string | undefined
      let result: ToolText | undefined
      for await (const message of stream) {
        if (message.type === 'taskCreated') {
          taskId = message.task.taskId
          // Each request is a fresh MCP server: the task is found through the database.
          expect((await owner.experimental.tasks.getTask(taskId)).status).toBe('working')
          await expect(other.experimental.tasks.getTask(taskId)).rejects.toThrow(/not found/i)
          expect((await other.experimental.tasks.listTasks()).tasks).toEqual([])
          await fetch(`${running.address}/protocols/${run.run.id}/actions/cancel`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
            body: '{}',
          })
        }
        if (message.type === 'result') result = message.result as ToolText
        if (message.type === 'error') throw message.error
      }
      expect(taskId).toBeDefined()
      expect(JSON.parse(result?.content[0]?.text ?? '{}')).toMatchObject({ settled: 'cancelled' })
      expect((await owner.experimental.tasks.getTask(taskId!)).status).toBe('completed')
      const again = (await owner.experimental.tasks.getTaskResult(taskId!, CallToolResultSchema)) as ToolText
      expect(JSON.parse(again.content[0]?.text ?? '{}')).toMatchObject({ run: { status: 'cancelled' } })
      await expect(other.experimental.tasks.getTaskResult(taskId!, CallToolResultSchema)).rejects.toThrow(
        /not found/i,
      )
      expect((await owner.experimental.tasks.listTasks()).tasks.map((t) => t.taskId)).toContain(taskId)
      // Only a hash binds the task to its caller: no token is stored.
      const rows = await running.runtime.database.db.selectFrom('mcp_tasks').selectAll().execute()
      expect(rows.find((row) => row.task_id === taskId)?.owner_hash).toMatch(/^[0-9a-f]{64}$/)
      expect(JSON.stringify(rows)).not.toContain(TOKEN)
      expect(JSON.stringify(rows)).not.toContain('another-callers-project-token')
    } finally {
      await owner.close()
      await other.close()
    }
  }, 30_000)

  it('over stdio with a wrong token, every tool reports the API 401 and nothing is created', async () => {
    const client = new Client({ name: 'test', version: '1' })
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: ['--import', 'tsx', CLI, 'mcp'],
        env: { ...inherited(), TASKSGODZILLA_API_BASE: running.address, TASKSGODZILLA_API_TOKEN: 'wrong' },
        stderr: 'pipe',
      }),
    )
    try {
      const result = (await client.callTool({
        name: 'create_run',
        arguments: { project_id: projectId, protocol_name: '0009-denied' },
      })) as ToolText
      expect(result.isError).toBe(true)
      expect(result.content[0]?.text).toContain('HTTP 401')
      const runs = await fetch(`${running.address}/projects/${projectId}/protocols`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      })
      expect(
        ((await runs.json()) as Array<{ protocol_name: string }>).map((r) => r.protocol_name),
      ).not.toContain('0009-denied')
    } finally {
      await client.close()
    }
  }, 30_000)
})

describe('the MCP HTTP face and project tokens', () => {
  const dir = tempDir('tgz-mcp-token-')
  let running: RunningServer
  afterAll(async () => {
    await running.stop()
    removeDir(dir)
  })

  it('forwards X-Project-Token: without it a protected project is refused (401), with it its runs are listed', async () => {
    const config = loadConfig({ TASKSGODZILLA_DB_PATH: join(dir, 'db.sqlite') }, dir)
    running = await startServer(config, createLogger(config, silentStream()), { port: 0, runJobs: false })
    const created = await fetch(`${running.address}/projects`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: `mcp-tok-${unique()}`,
        git_url: '/srv/repos/demo',
        secrets: { api_token: 'mcp-project-token-9' },
      }),
    })
    const project = (await created.json()) as { id: number }
    const connect = async (headers: Record<string, string>) => {
      const client = new Client({ name: 'test', version: '1' })
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${running.address}/mcp`), { requestInit: { headers } }),
      )
      return client
    }
    const anonymous = await connect({})
    const refused = (await anonymous.callTool({
      name: 'list_runs',
      arguments: { project_id: project.id },
    })) as ToolText
    expect(refused.isError).toBe(true)
    expect(refused.content[0]?.text).toContain('HTTP 401')
    await anonymous.close()
    const owner = await connect({ 'x-project-token': 'mcp-project-token-9' })
    const runs = parse(await owner.callTool({ name: 'list_runs', arguments: { project_id: project.id } }))
    expect(Array.isArray(runs)).toBe(true)
    await owner.close()
  }, 30_000)
})

const parse = (result: unknown): unknown => {
  const { isError, content } = result as ToolText
  if (isError) throw new Error(`tool error: ${content[0]?.text ?? ''}`)
  return JSON.parse(content[0]?.text ?? 'null')
}

const inherited = (): Record<string, string> =>
  Object.fromEntries(
    Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  )

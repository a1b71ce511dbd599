import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { loadConfig } from '../../src/config.js'
import { createLogger } from '../../src/logging.js'
import { createHttpServer, openRuntime, type Runtime } from '../../src/composition/index.js'
import { changeStepStatus } from '../../src/app/state-changes.js'
import { createTestDatabase, type TestDialect } from './databases.js'

export const silentStream = (): Writable => new Writable({ write: (_chunk, _encoding, done) => done() })

export interface TestApi {
  readonly server: FastifyInstance
  readonly runtime: Runtime
  /** Sends a request; `body` objects are sent as JSON. */
  request(
    method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    url: string,
    options?: { body?: unknown; headers?: Record<string, string> },
  ): Promise<LightMyRequestResponse>
  close(): Promise<void>
}

/** A real API (Fastify, use cases, storage) on a fresh database of the dialect, driven through inject(). */
export const openTestApi = async (
  dialect: TestDialect,
  env: Record<string, string> = {},
): Promise<TestApi> => {
  const database = await createTestDatabase(dialect)
  const dir = mkdtempSync(join(tmpdir(), 'tgz-api-'))
  const dbEnv: Record<string, string> =
    database.target.dialect === 'sqlite'
      ? { TASKSGODZILLA_DB_PATH: database.target.path }
      : { TASKSGODZILLA_DB_URL: database.target.url }
  const config = loadConfig({ ...dbEnv, TASKSGODZILLA_LOG_JSON: '1', ...env }, dir)
  const runtime = await openRuntime(config, createLogger(config, silentStream()))
  const server = await createHttpServer(runtime)
  return {
    server,
    runtime,
    request: (method, url, options = {}) =>
      server.inject({
        method,
        url,
        headers: options.headers,
        ...(options.body === undefined
          ? {}
          : typeof options.body === 'string'
            ? { payload: options.body, headers: { 'content-type': 'application/json', ...options.headers } }
            : { payload: options.body as object }),
      }),
    close: async () => {
      await server.close()
      await runtime.close()
      await database.drop()
    },
  }
}

/** Creates a project through the API and returns its JSON. */
export const createProject = async (
  api: TestApi,
  body: Record<string, unknown> = {},
  headers?: Record<string, string>,
): Promise<{ id: number; name: string }> => {
  const response = await api.request('POST', '/projects', {
    body: { name: `demo-${Math.random().toString(36).slice(2, 8)}`, git_url: '/srv/repos/demo', ...body },
    headers,
  })
  if (response.statusCode !== 200) throw new Error(`create project: ${response.statusCode} ${response.body}`)
  return response.json()
}

let protocolCounter = 0

export const createProtocol = async (
  api: TestApi,
  projectId: number,
  body: Record<string, unknown> = {},
  headers?: Record<string, string>,
): Promise<{ id: number; protocol_name: string; status: string }> => {
  protocolCounter += 1
  const name = `${String(protocolCounter).padStart(4, '0')}-task-${Math.random().toString(36).slice(2, 6)}`
  const response = await api.request('POST', `/projects/${projectId}/protocols`, {
    body: { protocol_name: name, ...body },
    headers,
  })
  if (response.statusCode !== 200) throw new Error(`create protocol: ${response.statusCode} ${response.body}`)
  return response.json()
}

export const createStep = async (
  api: TestApi,
  runId: number,
  body: Record<string, unknown> = {},
  headers?: Record<string, string>,
): Promise<{ id: number; status: string; step_name: string }> => {
  const response = await api.request('POST', `/protocols/${runId}/steps`, {
    body: {
      step_index: 0,
      step_name: `00-step-${Math.random().toString(36).slice(2, 6)}`,
      step_type: 'work',
      ...body,
    },
    headers,
  })
  if (response.statusCode !== 200) throw new Error(`create step: ${response.statusCode} ${response.body}`)
  return response.json()
}

/**
 * A running step of a fresh project and run, whose runtime_state points at a log file in `dir`
 * holding `content`: what step log routes read.
 */
export const runningStepWithLog = async (api: TestApi, dir: string, content: string) => {
  const project = await createProject(api)
  const run = await createProtocol(api, project.id)
  const step = await createStep(api, run.id)
  const logPath = join(dir, `${step.id}.log`)
  mkdirSync(dir, { recursive: true })
  writeFileSync(logPath, content)
  await api.runtime.deps.uow.run(async (tx) => {
    const stored = (await tx.steps.findById(step.id))!
    await tx.steps.update(step.id, { runtimeState: { log_path: logPath } })
    await changeStepStatus(tx, (await tx.runs.findById(run.id))!, stored, {
      action: 'run',
      event: { type: 'test', message: 'test' },
      origin: {},
    })
  })
  return { step, logPath, runId: run.id }
}

import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { SHUTDOWN_GRACE_MS } from '../../src/composition/index.js'
import { interpolate, parseDotenv } from './compose-interpolation.js'
import { configuredNames, parseCli, readRoot, SECRET_NAME, yamlFile } from './deploy-files.js'

interface Service {
  image?: string
  command?: string[]
  environment?: Record<string, string>
  healthcheck?: { test: string[] }
  deploy?: { replicas?: number }
  depends_on?: Record<string, { condition: string }>
  stop_grace_period?: string
  volumes?: string[]
}
type ComposeFile = { services: Record<string, Service> }

const scaled = yamlFile<ComposeFile>('deploy/compose.yaml')
const embedded = yamlFile<ComposeFile>('deploy/compose.embedded.yaml')
const example = parseDotenv(readRoot('deploy/.env.example'))
const ours = (file: ComposeFile) =>
  Object.entries(file.services).filter(([, service]) => service.image?.includes('tasksgodzilla'))
/** A service's environment as the container gets it, from the operator's variables. */
const environmentOf = (service: Service, env: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), env)]),
  )
const seconds = (duration: string | undefined) => Number(/^(\d+)s$/.exec(duration ?? '')?.[1] ?? 0)

describe('compose files (deploy/)', () => {
  it('runs two API instances and two workers on Postgres and Redis, each with a healthcheck', () => {
    const { api, worker, postgres, redis } = scaled.services
    expect(api?.deploy?.replicas).toBe(2)
    expect(worker?.deploy?.replicas).toBe(2)
    for (const service of [api, worker, postgres, redis])
      expect(service?.healthcheck?.test.length).toBeGreaterThan(0)
    for (const service of [api, worker])
      expect(service?.depends_on?.migrate).toEqual({ condition: 'service_completed_successfully' })
  })

  it('refuses to start without the database URL, the Redis URL or the API token, in one line naming it', () => {
    for (const name of ['TASKSGODZILLA_DB_URL', 'TASKSGODZILLA_REDIS_URL', 'TASKSGODZILLA_API_TOKEN']) {
      const raw = scaled.services.api?.environment?.[name] ?? ''
      expect(raw).toMatch(new RegExp(`^\\$\\{${name}:\\?[^}\\n]+\\}$`))
      const { [name]: _missing, ...rest } = example
      expect(() => environmentOf(scaled.services.api!, rest)).toThrow(
        new RegExp(`^required variable ${name} is missing a value: set ${name} [^\\n]+$`),
      )
    }
  })

  it('configures Postgres, Redis and a token the server accepts, from the example variables', () => {
    for (const [, service] of ours(scaled)) {
      const config = loadConfig(environmentOf(service, example), '/data')
      expect(config.database.dialect).toBe('postgres')
      expect(config.queue.backend).toBe('redis')
      expect(config.api.token).toBe(example.TASKSGODZILLA_API_TOKEN)
    }
    const config = loadConfig(environmentOf(embedded.services.tasksgodzilla!, example), '/data')
    expect(config.database).toEqual({ dialect: 'sqlite', path: '/data/tasksgodzilla.sqlite' })
    expect(config.queue.backend).toBe('embedded')
    expect(embedded.services.tasksgodzilla?.volumes).toEqual(['tasksgodzilla-data:/data'])
  })

  it('sets only variables the server reads, and secrets only from the operator environment', () => {
    const known = configuredNames()
    for (const [, service] of [...ours(scaled), ...ours(embedded)])
      for (const [name, value] of Object.entries(service.environment ?? {})) {
        if (name.startsWith('TASKSGODZILLA_')) expect(known, name).toContain(name)
        if (SECRET_NAME.test(name)) expect(String(value), name).toMatch(/^\$\{[A-Z_]+(:[-?][^}]*)?\}$/)
      }
  })

  it('runs only commands the CLI accepts, and checks the paths those commands serve', async () => {
    for (const [name, service] of [...ours(scaled), ...ours(embedded)]) {
      const { command } = await parseCli(service.command ?? [])
      expect(['serve', 'worker', 'migrate'], name).toContain(command)
    }
    expect(scaled.services.api?.healthcheck?.test.join(' ')).toContain('/health/ready')
    const worker = scaled.services.worker!
    const port = worker.command![worker.command!.indexOf('--metrics-port') + 1]
    expect(worker.healthcheck?.test.join(' ')).toContain(`:${port}/metrics`)
  })

  it('gives each container more time to stop than its drain takes', async () => {
    for (const [name, service] of [...ours(scaled), ...ours(embedded)]) {
      const { options } = await parseCli(service.command ?? [])
      const drainSeconds = options.grace === undefined ? SHUTDOWN_GRACE_MS / 1000 : Number(options.grace)
      expect(seconds(service.stop_grace_period), name).toBeGreaterThan(drainSeconds)
    }
  })
})

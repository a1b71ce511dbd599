import { describe, expect, it } from 'vitest'
import { ConfigError, configWarnings, loadConfig } from './config.js'

const load = (env: Record<string, string>) => loadConfig(env, '/srv/tgz')

const errorOf = (env: Record<string, string>): string => {
  try {
    load(env)
  } catch (error) {
    if (error instanceof ConfigError) return error.message
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('configuration', () => {
  it('defaults to a SQLite file in the working directory and the embedded queue', () => {
    const config = load({})
    expect(config.database).toEqual({ dialect: 'sqlite', path: '/srv/tgz/.tasksgodzilla.sqlite' })
    expect(config.queue).toEqual({ backend: 'embedded' })
    expect(config.api.port).toBe(8010)
    expect(config.budgets.mode).toBe('strict')
    expect(config.repos.autoClone).toBe(true)
  })

  it('registers more command engines from TASKSGODZILLA_COMMAND_ENGINES and names a bad value', () => {
    const engines = load({
      TASKSGODZILLA_COMMAND_ENGINES: '{"backup":["/opt/agent","--fast"],"local":["agent2"]}',
    }).engines.commandEngines
    expect(engines).toEqual([
      { id: 'backup', command: '/opt/agent', args: ['--fast'] },
      { id: 'local', command: 'agent2', args: [] },
    ])
    for (const value of [
      'backup=/opt/agent',
      '{"codex":["/x"]}',
      '{"Bad Id":["/x"]}',
      '{"b":[]}',
      '{"b":"/x"}',
    ])
      expect(errorOf({ TASKSGODZILLA_COMMAND_ENGINES: value })).toContain('TASKSGODZILLA_COMMAND_ENGINES')
  })

  it('does not rewrite GitHub origins to SSH unless asked', () => {
    expect(load({}).repos.ghSsh).toBe(false)
    expect(load({ TASKSGODZILLA_GH_SSH: 'yes' }).repos.ghSsh).toBe(true)
  })

  it('treats memory:// and fakeredis:// as the embedded queue and redis:// as BullMQ', () => {
    expect(load({ TASKSGODZILLA_REDIS_URL: 'fakeredis://' }).queue.backend).toBe('embedded')
    expect(load({ TASKSGODZILLA_REDIS_URL: 'memory://' }).queue.backend).toBe('embedded')
    expect(load({ TASKSGODZILLA_REDIS_URL: 'redis://127.0.0.1:6379/0' }).queue).toEqual({
      backend: 'redis',
      url: 'redis://127.0.0.1:6379/0',
    })
  })

  it('selects Postgres with the pool size from the environment', () => {
    const config = load({ TASKSGODZILLA_DB_URL: 'postgresql://db/tgz', TASKSGODZILLA_DB_POOL_SIZE: '9' })
    expect(config.database).toEqual({
      dialect: 'postgres',
      url: 'postgresql://db/tgz',
      poolSize: 9,
      preparedStatements: true,
    })
    const behindPooler = load({
      TASKSGODZILLA_DB_URL: 'postgresql://db/tgz',
      TASKSGODZILLA_DB_PREPARED_STATEMENTS: 'false',
    })
    expect(behindPooler.database).toMatchObject({ preparedStatements: false })
  })

  it('expands ~ and resolves relative paths against the working directory', () => {
    expect(load({ TASKSGODZILLA_DB_PATH: 'data/x.sqlite' }).database).toEqual({
      dialect: 'sqlite',
      path: '/srv/tgz/data/x.sqlite',
    })
    expect(load({ TASKSGODZILLA_PROJECTS_ROOT: 'repos' }).repos.projectsRoot).toBe('/srv/tgz/repos')
  })

  it('accepts the usual spellings of booleans in any case', () => {
    for (const truthy of ['1', 'true', 'YES', 'On']) {
      expect(load({ TASKSGODZILLA_LOG_JSON: truthy }).log.json).toBe(true)
    }
    expect(load({ TASKSGODZILLA_AUTO_QA_ON_CI: 'off' }).qa.autoOnCi).toBe(false)
  })

  it('names the variable and the accepted values when a value is invalid', () => {
    expect(errorOf({ TASKSGODZILLA_DB_POOL_SIZE: 'abc' })).toBe(
      'Invalid TASKSGODZILLA_DB_POOL_SIZE="abc": expected an integer from 1 to 1000',
    )
    expect(errorOf({ TASKSGODZILLA_TOKEN_BUDGET_MODE: 'loud' })).toBe(
      'Invalid TASKSGODZILLA_TOKEN_BUDGET_MODE="loud": expected one of strict, warn, off',
    )
    expect(errorOf({ TASKSGODZILLA_AUTO_CLONE: 'maybe' })).toMatch(
      /^Invalid TASKSGODZILLA_AUTO_CLONE="maybe"/,
    )
    expect(errorOf({ TASKSGODZILLA_LOG_LEVEL: 'chatty' })).toMatch(/TASKSGODZILLA_LOG_LEVEL/)
  })

  it('stops a silent agent after ten minutes unless told otherwise', () => {
    expect(load({}).engines.stallMs).toBe(600_000)
    expect(load({ TASKSGODZILLA_AGENT_STALL_SECONDS: '30' }).engines.stallMs).toBe(30_000)
    expect(errorOf({ TASKSGODZILLA_AGENT_STALL_SECONDS: '0' })).toMatch(/TASKSGODZILLA_AGENT_STALL_SECONDS/)
  })

  it('keeps one agent call shorter than the job that makes it', () => {
    const defaults = load({})
    expect(defaults.engines.timeoutMs).toBe(1800 * 1000)
    expect(defaults.jobs.agentTimeoutSeconds * 1000).toBeGreaterThan(defaults.engines.timeoutMs)
    // An unset engine timeout follows a short job timeout down, leaving a tenth for git work.
    expect(load({ TASKSGODZILLA_AGENT_JOB_TIMEOUT_SECONDS: '600' }).engines.timeoutMs).toBe(540_000)
    expect(
      load({ TASKSGODZILLA_AGENT_JOB_TIMEOUT_SECONDS: '600', TASKSGODZILLA_ENGINE_TIMEOUT_SECONDS: '599' })
        .engines.timeoutMs,
    ).toBe(599_000)
    expect(
      errorOf({
        TASKSGODZILLA_AGENT_JOB_TIMEOUT_SECONDS: '600',
        TASKSGODZILLA_ENGINE_TIMEOUT_SECONDS: '600',
      }),
    ).toBe(
      'Invalid TASKSGODZILLA_ENGINE_TIMEOUT_SECONDS="600": expected fewer seconds than TASKSGODZILLA_AGENT_JOB_TIMEOUT_SECONDS (600), so one agent call ends before its job',
    )
    expect(errorOf({ TASKSGODZILLA_ENGINE_TIMEOUT_SECONDS: '20000' })).toMatch(/\(14400\)/)
  })

  it('never echoes a password from a rejected URL', () => {
    const message = errorOf({ TASKSGODZILLA_REDIS_URL: 'amqp://user:hunter2@host' })
    expect(message).toContain('TASKSGODZILLA_REDIS_URL')
    expect(message).not.toContain('hunter2')
  })

  it('maps log level aliases of the original', () => {
    expect(load({ TASKSGODZILLA_LOG_LEVEL: 'WARNING' }).log.level).toBe('warn')
    expect(load({ TASKSGODZILLA_LOG_LEVEL: 'DEBUG' }).log.level).toBe('debug')
  })
})

describe('start-up warnings for variables that do nothing as set', () => {
  const warningsFor = (env: Record<string, string>) => configWarnings(loadConfig(env, '/srv'))

  it('names TASKSGODZILLA_GH_SSH when it is turned on, since onboarding never rewrites origins', () => {
    expect(warningsFor({})).toEqual([])
    expect(warningsFor({ TASKSGODZILLA_GH_SSH: 'true' })).toEqual([
      expect.stringContaining('TASKSGODZILLA_GH_SSH'),
    ])
  })

  it('names TASKSGODZILLA_SPEC_AUDIT_INTERVAL_SECONDS, since no periodic audit runs', () => {
    expect(warningsFor({ TASKSGODZILLA_SPEC_AUDIT_INTERVAL_SECONDS: '60' })).toEqual([
      expect.stringContaining('TASKSGODZILLA_SPEC_AUDIT_INTERVAL_SECONDS'),
    ])
  })

  it('names the commit identity variables when only one of the two is set', () => {
    expect(
      warningsFor({ TASKSGODZILLA_GIT_USER: 'Bot', TASKSGODZILLA_GIT_EMAIL: 'bot@example.com' }),
    ).toEqual([])
    expect(warningsFor({ TASKSGODZILLA_GIT_USER: 'Bot' })).toEqual([
      expect.stringContaining('TASKSGODZILLA_GIT_EMAIL'),
    ])
  })
})

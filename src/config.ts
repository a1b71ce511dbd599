import { homedir } from 'node:os'
import { resolve } from 'node:path'
import { REVIEW_MODES, type ReviewMode } from './domain/review-mode.js'
import { fail, raw, readBool, readChoice, readInt, readList, readString, type Env } from './config-readers.js'

import { ConfigError } from './config-readers.js'
import { readCommandEngines, type CommandEngineSetting } from './config-engines.js'
import { readEngineTimeoutMs, readJobs, type JobsConfig } from './config-jobs.js'
import { readNotifications, type NotificationsConfig } from './config-notifications.js'

export { ConfigError }

export type DatabaseTarget =
  | { readonly dialect: 'sqlite'; readonly path: string }
  | {
      readonly dialect: 'postgres'
      readonly url: string
      readonly poolSize: number
      /** Named (server-side prepared) statements; off for poolers that cannot keep them. */
      readonly preparedStatements: boolean
    }

export type QueueTarget =
  { readonly backend: 'embedded' } | { readonly backend: 'redis'; readonly url: string }

export const TOKEN_BUDGET_MODES = ['strict', 'warn', 'off'] as const
export type TokenBudgetMode = (typeof TOKEN_BUDGET_MODES)[number]

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** Everything the process is configured with, parsed and validated once at start-up. */
export interface Config {
  readonly env: string
  readonly database: DatabaseTarget
  readonly queue: QueueTarget
  readonly api: {
    readonly host: string
    /** False when the host is our default, so start-up may narrow it to loopback. */
    readonly hostExplicit: boolean
    readonly port: number
    /** Secret: compared in constant time, never logged or returned. */
    readonly token: string | undefined
    readonly bodyLimitBytes: number
    /** Memory for GET responses served again while the data is unchanged; 0 turns it off. */
    readonly readCacheBytes: number
    readonly corsOrigins: readonly string[]
    /** `TASKSGODZILLA_ALLOWED_HOSTS`: host names served besides the bind address and localhost. */
    readonly allowedHosts: readonly string[]
    readonly metricsPublic: boolean
    /** `TASKSGODZILLA_MAX_STREAMS_PER_TOKEN`: open SSE / log-follow connections one caller may hold. */
    readonly maxStreamsPerToken: number
    /** `TASKSGODZILLA_MAX_STREAMS`: open SSE / log-follow connections the process holds, all callers together. */
    readonly maxStreams: number
  }
  /** Limits on repository- and agent-controlled files. */
  readonly files: {
    /** `TASKSGODZILLA_MAX_CONTAINED_FILE_BYTES`: the largest prompt, plan or config file read. */
    readonly containedMaxBytes: number
    /** `TASKSGODZILLA_MAX_COMMIT_FILE_BYTES`: larger files are left out of step commits. */
    readonly commitMaxFileBytes: number
  }
  readonly webhooks: { readonly token: string | undefined; readonly allowUnsigned: boolean }
  /** PR/MR review comments sent back to the agent (docs/operations.md). */
  readonly reviews: {
    /** `TASKSGODZILLA_REVIEW_DEBOUNCE_SECONDS`: comments within this window become one follow-up. */
    readonly debounceSeconds: number
    /** `TASKSGODZILLA_BOT_LOGIN`: the server's own account(s) on GitHub/GitLab; their comments are ignored. */
    readonly botLogins: readonly string[]
    /** `TASKSGODZILLA_REVIEW_MAX_ROUNDS`: follow-up rounds per run before it blocks (needs_human). */
    readonly maxRounds: number
    /** `TASKSGODZILLA_REVIEW_MODE`: the default when neither the spec nor the project names one. */
    readonly mode: ReviewMode
  }
  /** Base-branch conflicts sent back to the agent (docs/operations.md). */
  readonly mergeConflicts: {
    /** `TASKSGODZILLA_MERGE_CONFLICT_MAX_ROUNDS`: conflict steps per run before it blocks (needs_human). */
    readonly maxRounds: number
  }
  readonly log: { readonly level: LogLevel; readonly json: boolean }
  readonly qa: { readonly autoOnCi: boolean; readonly autoAfterExec: boolean }
  readonly budgets: {
    readonly maxTokensPerStep: number | undefined
    readonly maxTokensPerProtocol: number | undefined
    readonly mode: TokenBudgetMode
  }
  readonly models: {
    readonly planning: string | undefined
    readonly decompose: string | undefined
    readonly exec: string | undefined
    readonly qa: string | undefined
    readonly discovery: string
    readonly skipSimpleDecompose: boolean
    /** `TASKSGODZILLA_DECOMPOSE_STEPS`: planning refines each step file with one more agent call. */
    readonly decomposeSteps: boolean
  }
  readonly repos: {
    readonly projectsRoot: string
    readonly autoClone: boolean
    readonly ghSsh: boolean
    readonly gitUser: string | undefined
    readonly gitEmail: string | undefined
    /** GIT_AUTHOR_NAME is set: git, which is handed it, takes the commit author from it. */
    readonly gitAuthorInEnvironment: boolean
    readonly allowLocalRepos: boolean
    /** `TASKSGODZILLA_ALLOW_PRIVATE_GIT_HOSTS`: clones may reach loopback/private/link-local hosts. */
    readonly allowPrivateGitHosts: boolean
    readonly cloneTimeoutSeconds: number
  }
  readonly onboarding: { readonly requireClarifications: boolean; readonly writeAssets: boolean }
  readonly jobs: JobsConfig
  readonly specAuditIntervalSeconds: number | undefined
  /** Agent engines: an optional `command` engine, the default engine id, the per-call time limit. */
  readonly engines: {
    /** `TASKSGODZILLA_COMMAND_ENGINE`: executable registered as engine id `command`. */
    readonly command: string | undefined
    /** `TASKSGODZILLA_COMMAND_ENGINE_ARGS`: its fixed arguments, comma-separated. */
    readonly commandArgs: readonly string[]
    /** `TASKSGODZILLA_COMMAND_ENGINES`: more command engines by id (JSON: id → argv). */
    readonly commandEngines: readonly CommandEngineSetting[]
    /** `TASKSGODZILLA_DEFAULT_ENGINE`: used when nothing names an engine (default codex). */
    readonly defaultId: string | undefined
    readonly timeoutMs: number
    /**
     * `TASKSGODZILLA_AGENT_STALL_SECONDS` (default 600): an agent that prints nothing for this long
     * is stopped and its job retried as a stall, long before the engine timeout.
     */
    readonly stallMs: number
    /** `TASKSGODZILLA_LOGS_DIR`: per-step agent logs and engine scratch files. */
    readonly logsDir: string
  }
  readonly maxInlineTriggerDepth: number
  /** Secrets for the code hosts, used by PR and CI jobs only; never passed to agents. */
  readonly hosts: {
    readonly githubToken: string | undefined
    readonly gitlabToken: string | undefined
    /** GitHub REST API root (`TASKSGODZILLA_GITHUB_API_URL`, GitHub Enterprise); default api.github.com. */
    readonly githubApiUrl: string | undefined
    /** GitLab instance root (`TASKSGODZILLA_GITLAB_URL`); default https://gitlab.com. */
    readonly gitlabUrl: string | undefined
    /** GitHub workflow that `ci trigger` dispatches (`TASKSGODZILLA_CI_WORKFLOW`, file name or id); default ci.yml. */
    readonly ciWorkflow: string
  }
  readonly notifications: NotificationsConfig
}

const DEFAULT_PORT = 8010
const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024
const DEFAULT_READ_CACHE_MB = 32
/**
 * Open streams per process: each costs a socket, a file descriptor and ~10–25 kB of memory
 * (docs/performance.md, "Memory"), so 10,000 bound them to a few hundred MB.
 */
const DEFAULT_MAX_STREAMS = 10_000
const MIB = 1024 * 1024

/**
 * Parses the environment into a Config. Throws ConfigError (one line, naming the variable and
 * what it accepts) on the first invalid value. `cwd` anchors relative paths.
 */
export const loadConfig = (env: Env, cwd: string): Config => {
  const host = raw(env, 'TASKSGODZILLA_API_HOST')
  const jobs = readJobs(env)
  return {
    env: readString(env, 'TASKSGODZILLA_ENV') ?? 'local',
    database: readDatabase(env, cwd),
    queue: readQueue(env),
    api: {
      host: host ?? '127.0.0.1',
      hostExplicit: host !== undefined,
      port: readInt(env, 'TASKSGODZILLA_API_PORT', { min: 0, max: 65535 }, DEFAULT_PORT),
      token: readString(env, 'TASKSGODZILLA_API_TOKEN'),
      bodyLimitBytes: readInt(env, 'TASKSGODZILLA_BODY_LIMIT_BYTES', { min: 1024 }, DEFAULT_BODY_LIMIT_BYTES),
      readCacheBytes: readInt(env, 'TASKSGODZILLA_READ_CACHE_MB', { min: 0 }, DEFAULT_READ_CACHE_MB) * MIB,
      corsOrigins: readList(env, 'TASKSGODZILLA_CORS_ORIGINS'),
      allowedHosts: readList(env, 'TASKSGODZILLA_ALLOWED_HOSTS'),
      metricsPublic: readBool(env, 'TASKSGODZILLA_METRICS_PUBLIC', true),
      maxStreamsPerToken: readInt(env, 'TASKSGODZILLA_MAX_STREAMS_PER_TOKEN', { min: 1 }, 16),
      maxStreams: readInt(env, 'TASKSGODZILLA_MAX_STREAMS', { min: 1 }, DEFAULT_MAX_STREAMS),
    },
    files: {
      containedMaxBytes: readInt(env, 'TASKSGODZILLA_MAX_CONTAINED_FILE_BYTES', { min: 1 }, MIB),
      commitMaxFileBytes: readInt(env, 'TASKSGODZILLA_MAX_COMMIT_FILE_BYTES', { min: 1 }, 5 * MIB),
    },
    webhooks: {
      token: readString(env, 'TASKSGODZILLA_WEBHOOK_TOKEN'),
      allowUnsigned: readBool(env, 'TASKSGODZILLA_WEBHOOK_ALLOW_UNSIGNED', false),
    },
    reviews: {
      debounceSeconds: readInt(env, 'TASKSGODZILLA_REVIEW_DEBOUNCE_SECONDS', { min: 0, max: 86_400 }, 60),
      botLogins: readList(env, 'TASKSGODZILLA_BOT_LOGIN'),
      maxRounds: readInt(env, 'TASKSGODZILLA_REVIEW_MAX_ROUNDS', { min: 0, max: 100 }, 3),
      mode: readChoice(env, 'TASKSGODZILLA_REVIEW_MODE', REVIEW_MODES, 'reopen_last_step'),
    },
    mergeConflicts: {
      maxRounds: readInt(env, 'TASKSGODZILLA_MERGE_CONFLICT_MAX_ROUNDS', { min: 0, max: 100 }, 3),
    },
    log: { level: readLogLevel(env), json: readBool(env, 'TASKSGODZILLA_LOG_JSON', false) },
    qa: {
      autoOnCi: readBool(env, 'TASKSGODZILLA_AUTO_QA_ON_CI', false),
      autoAfterExec: readBool(env, 'TASKSGODZILLA_AUTO_QA_AFTER_EXEC', false),
    },
    budgets: {
      maxTokensPerStep: readInt(env, 'TASKSGODZILLA_MAX_TOKENS_PER_STEP', { min: 1 }),
      maxTokensPerProtocol: readInt(env, 'TASKSGODZILLA_MAX_TOKENS_PER_PROTOCOL', { min: 1 }),
      mode: readChoice(env, 'TASKSGODZILLA_TOKEN_BUDGET_MODE', TOKEN_BUDGET_MODES, 'strict'),
    },
    models: {
      planning: readString(env, 'PROTOCOL_PLANNING_MODEL'),
      decompose: readString(env, 'PROTOCOL_DECOMPOSE_MODEL'),
      exec: readString(env, 'PROTOCOL_EXEC_MODEL'),
      qa: readString(env, 'PROTOCOL_QA_MODEL'),
      discovery: readString(env, 'PROTOCOL_DISCOVERY_MODEL') ?? 'gpt-5.1-codex-max',
      skipSimpleDecompose: readBool(env, 'PROTOCOL_SKIP_SIMPLE_DECOMPOSE', false),
      decomposeSteps: readBool(env, 'TASKSGODZILLA_DECOMPOSE_STEPS', false),
    },
    repos: {
      projectsRoot: resolvePath(readString(env, 'TASKSGODZILLA_PROJECTS_ROOT') ?? 'Projects', cwd),
      autoClone: readBool(env, 'TASKSGODZILLA_AUTO_CLONE', true),
      ghSsh: readBool(env, 'TASKSGODZILLA_GH_SSH', false),
      gitUser: readString(env, 'TASKSGODZILLA_GIT_USER'),
      gitEmail: readString(env, 'TASKSGODZILLA_GIT_EMAIL'),
      gitAuthorInEnvironment: readString(env, 'GIT_AUTHOR_NAME') !== undefined,
      allowLocalRepos: readBool(env, 'TASKSGODZILLA_ALLOW_LOCAL_REPOS', true),
      allowPrivateGitHosts: readBool(env, 'TASKSGODZILLA_ALLOW_PRIVATE_GIT_HOSTS', false),
      cloneTimeoutSeconds: readInt(env, 'TASKSGODZILLA_GIT_CLONE_TIMEOUT_SECONDS', { min: 1 }, 120),
    },
    onboarding: {
      requireClarifications: readBool(env, 'TASKSGODZILLA_REQUIRE_ONBOARDING_CLARIFICATIONS', false),
      writeAssets: readBool(env, 'TASKSGODZILLA_ONBOARDING_WRITE_ASSETS', false),
    },
    jobs,
    specAuditIntervalSeconds: readInt(env, 'TASKSGODZILLA_SPEC_AUDIT_INTERVAL_SECONDS', { min: 1 }),
    engines: {
      command: readString(env, 'TASKSGODZILLA_COMMAND_ENGINE'),
      commandArgs: readList(env, 'TASKSGODZILLA_COMMAND_ENGINE_ARGS'),
      commandEngines: readCommandEngines(env),
      defaultId: readString(env, 'TASKSGODZILLA_DEFAULT_ENGINE'),
      timeoutMs: readEngineTimeoutMs(env, jobs.agentTimeoutSeconds),
      stallMs: readInt(env, 'TASKSGODZILLA_AGENT_STALL_SECONDS', { min: 1 }, 600) * 1000,
      logsDir: resolvePath(readString(env, 'TASKSGODZILLA_LOGS_DIR') ?? '.tasksgodzilla/logs', cwd),
    },
    maxInlineTriggerDepth: readInt(env, 'TASKSGODZILLA_MAX_INLINE_TRIGGER_DEPTH', { min: 0, max: 50 }, 3),
    hosts: {
      githubToken: readString(env, 'GITHUB_TOKEN') ?? readString(env, 'GH_TOKEN'),
      gitlabToken: readString(env, 'GITLAB_TOKEN'),
      githubApiUrl: readString(env, 'TASKSGODZILLA_GITHUB_API_URL'),
      gitlabUrl: readString(env, 'TASKSGODZILLA_GITLAB_URL'),
      ciWorkflow: readString(env, 'TASKSGODZILLA_CI_WORKFLOW') ?? 'ci.yml',
    },
    notifications: readNotifications(env),
  }
}

const readDatabase = (env: Env, cwd: string): DatabaseTarget => {
  const url = raw(env, 'TASKSGODZILLA_DB_URL')
  const poolSize = readInt(env, 'TASKSGODZILLA_DB_POOL_SIZE', { min: 1, max: 1000 }, 5)
  const preparedStatements = readBool(env, 'TASKSGODZILLA_DB_PREPARED_STATEMENTS', true)
  if (url !== undefined && /^postgres(ql)?:\/\/./.test(url))
    return { dialect: 'postgres', url, poolSize, preparedStatements }
  if (url?.startsWith('sqlite:')) return { dialect: 'sqlite', path: resolvePath(sqlitePathOf(url), cwd) }
  if (url !== undefined)
    fail('TASKSGODZILLA_DB_URL', redactUrl(url), 'a postgres://, postgresql:// or sqlite:/// URL')
  return {
    dialect: 'sqlite',
    path: resolvePath(readString(env, 'TASKSGODZILLA_DB_PATH') ?? '.tasksgodzilla.sqlite', cwd),
  }
}

const readQueue = (env: Env): QueueTarget => {
  const url = raw(env, 'TASKSGODZILLA_REDIS_URL')
  if (url === undefined || url.startsWith('memory://') || url.startsWith('fakeredis://'))
    return { backend: 'embedded' }
  if (url.startsWith('redis://') || url.startsWith('rediss://')) return { backend: 'redis', url }
  return fail(
    'TASKSGODZILLA_REDIS_URL',
    redactUrl(url),
    'redis://, rediss://, memory:// or fakeredis:// (unset means the embedded queue)',
  )
}

const LOG_LEVEL_ALIASES: Readonly<Record<string, LogLevel>> = { warning: 'warn', critical: 'fatal' }

const readLogLevel = (env: Env): LogLevel => {
  const value = raw(env, 'TASKSGODZILLA_LOG_LEVEL')
  if (value === undefined) return 'info'
  const lower = value.toLowerCase()
  const level = LOG_LEVEL_ALIASES[lower] ?? LOG_LEVELS.find((candidate) => candidate === lower)
  return level ?? fail('TASKSGODZILLA_LOG_LEVEL', value, `one of ${LOG_LEVELS.join(', ')} (any case)`)
}

/** `sqlite:///abs/path`, `sqlite:///./rel` and `sqlite://rel` all name a file path. */
const sqlitePathOf = (url: string): string => url.replace(/^sqlite:\/\/\/?/, '') || '.tasksgodzilla.sqlite'

const resolvePath = (path: string, cwd: string): string =>
  path === ':memory:' ? path : resolve(cwd, path.startsWith('~') ? homedir() + path.slice(1) : path)

/** Never echo a password from a URL, even in an error line. */
const redactUrl = (url: string): string => url.replace(/\/\/([^@/]*)@/, '//***@')

export const isConfigError = (error: unknown): error is ConfigError => error instanceof ConfigError

/**
 * Variables that are read but change nothing as set, each with the reason; logged once at start-up
 * so that a setting that does nothing is never silent.
 */
export const configWarnings = (config: Config): string[] => {
  const warnings: string[] = []
  if (config.repos.ghSsh)
    warnings.push(
      "TASKSGODZILLA_GH_SSH has no effect: onboarding never rewrites a repository's origin to SSH (the original did, mutating the user's repository)",
    )
  if ((config.repos.gitUser === undefined) !== (config.repos.gitEmail === undefined))
    warnings.push(
      'TASKSGODZILLA_GIT_USER and TASKSGODZILLA_GIT_EMAIL take effect only together: commits keep the repository identity',
    )
  if (config.specAuditIntervalSeconds !== undefined)
    warnings.push(
      'TASKSGODZILLA_SPEC_AUDIT_INTERVAL_SECONDS has no effect: periodic spec audits are not built yet (run POST /specs/audit)',
    )
  return warnings
}

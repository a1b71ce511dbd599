import { createContainedFiles } from '../../src/adapters/files/contained-files.adapter.js'
import { createHttpNotificationSender } from '../../src/adapters/notifications/http-notification.sender.js'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { createCommandEngine } from '../../src/adapters/engines/command.engine.js'
import { createEngineRegistry } from '../../src/adapters/engines/engine.registry.js'
import { createCodeHosts } from '../../src/adapters/hosts/code-hosts.js'
import { createBaseSync } from '../../src/adapters/git/base-sync.js'
import { createGitClient } from '../../src/adapters/git/git.client.js'
import { createRepositories, createUnitOfWork } from '../../src/adapters/storage/unit-of-work.js'
import type { JobAttempt } from '../../src/app/queue-runtime/job-handler.js'
import type { JobCounters, ProtocolJobDeps } from '../../src/app/protocol/protocol-job-deps.js'
import type { Config } from '../../src/config.js'
import type { DatabaseHandle } from '../../src/adapters/storage/database.js'
import { packageAssets } from './package-assets.js'

export const DEMO_AGENT = fileURLToPath(new URL('../../fixtures/agents/demo-agent.mjs', import.meta.url))

/** Counters that remember what they were told. */
export const recordingCounters = () => {
  const seen: Array<{ name: string; labels: Record<string, string>; value: number }> = []
  const counters: JobCounters = {
    estimatedTokens: (phase, model, value) =>
      seen.push({ name: 'estimated', labels: { phase, model }, value }),
    agentTokens: (labels, value) => seen.push({ name: 'agent', labels: { ...labels }, value }),
    qaVerdict: (verdict) => seen.push({ name: 'qa', labels: { verdict }, value: 1 }),
  }
  return { counters, seen }
}

export interface JobDepsOptions {
  readonly agentArgs?: readonly string[]
  /** Engine binary (default: the demo agent). */
  readonly command?: string
  readonly budgets?: Config['budgets']
  readonly autoQa?: boolean
  readonly requireClarifications?: boolean
  readonly decomposeSteps?: boolean
  readonly writeAssets?: boolean
  readonly skipSimpleDecompose?: boolean
  readonly counters?: JobCounters
  readonly githubToken?: string
  readonly gitlabToken?: string
  /** Base URL of the fake GitHub/GitLab server. */
  readonly hostUrl?: string
  /** TASKSGODZILLA_MAX_INLINE_TRIGGER_DEPTH (default 3). */
  readonly maxTriggerDepth?: number
  /** Where `gh`/`glab` are looked for when a provider has no token, and their environment. */
  /** TASKSGODZILLA_MAX_CONTAINED_FILE_BYTES (default 1 MiB). */
  readonly containedMaxBytes?: number
  readonly hostCli?: { readonly searchPath: string; readonly env: Record<string, string> }
  /** TASKSGODZILLA_MERGE_CONFLICT_MAX_ROUNDS (default 3). */
  readonly maxConflictRounds?: number
}

/** Protocol job deps over a real database, the git CLI and the demo agent as `command` engine. */
export const makeJobDeps = (
  handle: DatabaseHandle,
  root: string,
  options: JobDepsOptions = {},
): ProtocolJobDeps => ({
  uow: createUnitOfWork(handle.db),
  engineLimits: createRepositories(handle.db).engineLimits,
  git: createGitClient({ projectsRoot: join(root, 'projects'), allowLocalRepos: true }),
  baseSync: createBaseSync({ allowLocalRepos: true }),
  engines: createEngineRegistry([
    createCommandEngine({
      id: 'command',
      command: options.command ?? DEMO_AGENT,
      args: [...(options.agentArgs ?? [])],
    }),
  ]),
  config: {
    qa: { autoOnCi: false, autoAfterExec: options.autoQa ?? false },
    budgets: options.budgets ?? { maxTokensPerStep: undefined, maxTokensPerProtocol: undefined, mode: 'off' },
    models: {
      planning: undefined,
      decompose: undefined,
      exec: undefined,
      qa: undefined,
      discovery: 'x',
      skipSimpleDecompose: options.skipSimpleDecompose ?? false,
      decomposeSteps: options.decomposeSteps ?? false,
    },
    onboarding: {
      requireClarifications: options.requireClarifications ?? false,
      writeAssets: options.writeAssets ?? false,
    },
    jobs: {
      maxAttempts: 3,
      backoffBaseMs: 0,
      backoffMaxMs: 0,
      retentionHours: 1,
      timeoutSeconds: 600,
      agentTimeoutSeconds: 60,
    },
    repos: { autoClone: true, ghSsh: false },
    maxInlineTriggerDepth: options.maxTriggerDepth ?? 3,
    mergeConflicts: { maxRounds: options.maxConflictRounds ?? 3 },
  },
  codeHosts: createCodeHosts({
    githubToken: options.githubToken,
    gitlabToken: options.gitlabToken,
    githubApiUrl: options.hostUrl,
    gitlabUrl: options.hostUrl,
    ...(options.hostCli ? { cli: options.hostCli } : {}),
  }),
  counters: options.counters ?? recordingCounters().counters,
  paths: { logsDir: join(root, 'logs') },
  files: createContainedFiles(options.containedMaxBytes ? { maxBytes: options.containedMaxBytes } : {}),
  assets: packageAssets,
  engineTimeoutMs: 20_000,
  notifier: {
    sender: createHttpNotificationSender({ allowPrivate: true, timeoutMs: 5_000 }),
    defaultReceiver: undefined,
  },
})

let jobSeq = 0

/** A job context for calling a handler directly. */
export const jobRun = (
  signal: AbortSignal = new AbortController().signal,
  jobId = `job-${++jobSeq}`,
): JobAttempt => ({
  signal,
  attempt: 1,
  maxAttempts: 3,
  jobId,
})

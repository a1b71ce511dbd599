import type { Config } from '../../config.js'
import type { CodeHosts } from '../code-host.port.js'
import type { Assets } from '../assets.port.js'
import type { ContainedFiles } from '../contained-files.js'
import type { QaVerdict } from '../../domain/verdict.js'
import type { EngineRegistry } from '../engine.port.js'
import type { GitClient } from '../git.port.js'
import type { UnitOfWork } from '../ports.js'
import type { EngineLimitReads } from '../runs/engine-limit.port.js'
import type { NotificationJobDeps } from '../notifications/deliver-notification.job.js'
import type { BaseSync } from '../protocol-merge/base-sync.port.js'

/** The counters protocol jobs feed; the composition root (src/composition) adapts src/metrics.ts to it. */
export interface JobCounters {
  /** `codex_token_estimated_total{phase,model}`: the prompt-side estimate of one engine call. */
  estimatedTokens(phase: string, model: string, tokens: number): void
  /** `agent_tokens_total{engine,model,phase,kind}`: actual (or estimated) usage of one call. */
  agentTokens(labels: AgentTokenLabels, tokens: number): void
  /** `qa_verdict_total{verdict}`. */
  qaVerdict(verdict: QaVerdict): void
}

export interface AgentTokenLabels {
  readonly engine: string
  readonly model: string
  readonly phase: string
  readonly kind: 'prompt' | 'completion'
}

/** Counters that count nothing (tests, CLI tools). */
export const NO_COUNTERS: JobCounters = {
  estimatedTokens: () => undefined,
  agentTokens: () => undefined,
  qaVerdict: () => undefined,
}

/** Where protocol jobs keep files that are not part of the repository. */
export interface JobPaths {
  /** Per-step agent logs (`<logsDir>/steps/<step id>.log`) and engine scratch folders. */
  readonly logsDir: string
}

/** Everything the protocol job handlers need, injected by the composition root (one set per process). */
export interface ProtocolJobDeps {
  readonly uow: UnitOfWork
  /** The engines' breakers, read before a call outside any transaction (one statement a read). */
  readonly engineLimits: EngineLimitReads
  readonly git: GitClient
  readonly engines: EngineRegistry
  readonly config: Pick<
    Config,
    'qa' | 'budgets' | 'models' | 'onboarding' | 'jobs' | 'maxInlineTriggerDepth' | 'mergeConflicts'
  > & {
    readonly repos: Pick<Config['repos'], 'autoClone' | 'ghSsh'>
  }
  readonly counters: JobCounters
  /** Rebases run branches onto their moved base (open_pr_job, base_sync_job). */
  readonly baseSync: BaseSync
  /** GitHub/GitLab clients for open_pr_job (absent providers have no token). */
  readonly codeHosts: CodeHosts
  readonly paths: JobPaths
  /** The only way handlers read or write repository- and agent-controlled files. */
  readonly files: ContainedFiles
  /** Our own packaged files: prompt templates, JSON Schemas, starter assets. */
  readonly assets: Assets
  /** Wall-clock limit of one engine call. */
  readonly engineTimeoutMs: number
  /** The notification delivery job's sender and global default receiver. */
  readonly notifier: Omit<NotificationJobDeps, 'uow'>
  /** An engine call that prints nothing for this long is stopped and retried as a stall. */
  readonly engineStallMs?: number
}

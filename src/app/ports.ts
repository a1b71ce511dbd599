import type { McpTaskRepository } from './mcp/mcp-task.port.js'
import type { NewEvent, OrchestratorEvent, EventWithContext } from '../domain/event.js'
import type { JsonObject } from '../domain/json.js'
import type { Job, JobStatKey, JobStatus, JobType, NewJob } from '../domain/job.js'
import type { NewProject, Project, ProjectCredentials, ProjectPatch } from '../domain/project.js'
import type { NewProtocolRun, ProtocolRun, ProtocolRunPatch } from '../domain/protocol-run.js'
import type { ProtocolStatus, StepStatus } from '../domain/statuses.js'
import type { NewStepRun, StepRun, StepRunPatch } from '../domain/step-run.js'
import type { JobClaim, JobSettlement } from './job-claim.port.js'
import type { NotificationRepository } from './notifications/notification.port.js'
import type { EngineLimitRepository } from './runs/engine-limit.port.js'
import type { RunLeaseRepository } from './runs/run-lease.port.js'
import type { ReviewCommentRepository } from './reviews/review-comments.port.js'

/** Keyset page request. Lists are newest first unless a method says otherwise. */
export interface Page {
  readonly limit: number
  /** Only rows with a smaller id (older). */
  readonly beforeId?: number
  /** Only rows with a greater id (newer). */
  readonly afterId?: number
}

/**
 * Who a listing is read for: the project token the caller presented, as the SHA-256 hex that
 * projects keep (null: none presented). A listing read for a reader holds only what its token may see.
 */
export interface Reader {
  readonly presentedTokenHash: string | null
}

export interface ProjectRepository {
  /** Inserts a project; the caller has validated it. */
  create(project: NewProject): Promise<Project>
  /** The project, or undefined; "not found" is the use case's call. */
  findById(id: number): Promise<Project | undefined>
  /** Newest first (created_at, then id), leaving out `excludeIds` (projects the caller may not read). */
  list(page: Page & { readonly excludeIds?: readonly number[] }): Promise<Project[]>
  /** Applies the given fields (absent keys untouched) and returns the project, or undefined if unknown. */
  update(id: number, patch: ProjectPatch): Promise<Project | undefined>
  /** Credentials for auth and webhook checks only; never hand the result to a presenter. */
  findCredentials(id: number): Promise<ProjectCredentials | undefined>
  /** The project and its credentials from one read (authorization, then the use case). */
  findWithCredentials(id: number): Promise<{ project: Project; credentials: ProjectCredentials } | undefined>
  /** Per-project webhook secrets (`secrets.webhook_secret`), for signature checks only. */
  listWebhookSecrets(): Promise<Array<{ projectId: number; secret: string; gitUrl: string }>>
  /** Token hashes of every project that has a token, to hide their data from other callers. */
  listTokenHashes(): Promise<Array<{ projectId: number; apiTokenHash: string }>>
  /**
   * A value that changes whenever a project gains, loses or changes its token (count and latest
   * update of the token-protected projects), so a long-lived reader re-reads `listTokenHashes`
   * only then. It may also change without a token change; it never says which project changed.
   */
  tokenSetVersion(): Promise<string>
}

export interface ProtocolRunRepository {
  /** Inserts a run; throws ORC_DUPLICATE_PROTOCOL_NAME when the project already has that name. */
  create(run: NewProtocolRun): Promise<ProtocolRun>
  findById(id: number): Promise<ProtocolRun | undefined>
  /**
   * findById that, inside a transaction on Postgres, also holds the run's row until the
   * transaction ends: another transaction locking it waits, then reads what this one wrote.
   * (SQLite's transactions already run one at a time.) For decisions over all of a run's steps.
   */
  lockById(id: number): Promise<ProtocolRun | undefined>
  /** The run and its project in one read; undefined when the run is unknown. */
  findWithProject(id: number): Promise<{ run: ProtocolRun; project: Project } | undefined>
  /** The run and its project's token hash (null: no token) from one read, for authorization. */
  findWithProjectTokenHash(
    id: number,
  ): Promise<{ run: ProtocolRun; projectTokenHash: string | null } | undefined>
  /**
   * Only the token hash of the run's project (null: no token), for reads that authorize a run
   * and then list what belongs to it; not the run itself, whose row is the widest a listing reads.
   */
  findProjectTokenHash(id: number): Promise<{ projectTokenHash: string | null } | undefined>
  /** Runs of one project, newest first. */
  listByProject(projectId: number, page: Page): Promise<ProtocolRun[]>
  /**
   * listByProject for `reader`: empty unless the project has no token or the reader presented it,
   * decided by the same statement before it reads any run.
   */
  listByProjectFor(projectId: number, page: Page, reader: Reader): Promise<ProtocolRun[]>
  /** Runs whose stored branch equals `branch`, optionally within one project; newest first. */
  findByBranch(branch: string, projectId?: number): Promise<ProtocolRun[]>
  /**
   * Moves the run to `to` only if its status is still one of `from`, applying `patch` in the same write.
   * Throws ORC_STATE_CHANGED when another writer got there first. Does not consult the transition table.
   */
  compareAndSetStatus(
    id: number,
    from: readonly ProtocolStatus[],
    to: ProtocolStatus,
    patch?: ProtocolRunPatch,
  ): Promise<ProtocolRun>
  /** Updates non-status fields; undefined when the run is unknown. */
  update(id: number, patch: ProtocolRunPatch): Promise<ProtocolRun | undefined>
  /**
   * Adds one call's tokens and cost to the run's totals in the write itself, so two jobs of a run
   * finishing together both count. Nothing when the run is unknown.
   */
  addUsage(id: number, tokens: number, costUsd: number): Promise<void>
}

/** See StepRunRepository.moveIfAllowed. */
export interface StepMove {
  readonly from: readonly StepStatus[]
  readonly to: StepStatus
  readonly patch?: StepRunPatch
  readonly event: {
    readonly type: string
    readonly message: string
    readonly movedMetadata: JsonObject
    readonly unmovedMetadata: JsonObject
  }
  /**
   * An agent call's spending, added to the run's totals by the same write whether or not the step
   * moves (what was spent counts), as `ProtocolRunRepository.addUsage` would.
   */
  readonly runUsage?: { readonly tokens: number; readonly costUsd: number }
  /**
   * The job whose work on the step this move ends: the run's worktree lease is dropped by the
   * same write if that job took it (`RunLeaseRepository.release`), whether or not the step moves.
   */
  readonly releaseLeaseOf?: string
}

export interface StepMoveResult {
  readonly step: StepRun
  readonly event: OrchestratorEvent
  /** False when the step's status was not one of `from` and only the event was appended. */
  readonly moved: boolean
  /** The step's run as this write left it (its usage added), so callers need not read it again. */
  readonly run: ProtocolRun
}

/** A step's patch at a status change, plus keys merged into its `runtime_state` by the same write. */
export type StepStatusPatch = StepRunPatch & {
  /** mergeRuntimeState's rules (a null removes the key); not with a `runtimeState` set whole. */
  readonly runtimeMerge?: JsonObject
}

export interface StepRunRepository {
  create(step: NewStepRun): Promise<StepRun>
  findById(id: number): Promise<StepRun | undefined>
  /** A step and the project of its run, in one read; undefined when the step is unknown. */
  findWithProjectId(id: number): Promise<{ step: StepRun; projectId: number } | undefined>
  /** A step with its run and the run's project, in one read; undefined when the step is unknown. */
  findWithRunAndProject(
    id: number,
  ): Promise<{ step: StepRun; run: ProtocolRun; project: Project } | undefined>
  /** A step with its run and the project's token hash (null: none), in one read, for authorization. */
  findWithRunAndTokenHash(
    id: number,
  ): Promise<{ step: StepRun; run: ProtocolRun; projectTokenHash: string | null } | undefined>
  /** Steps of a run in execution order (step_index, then id). */
  listByRun(protocolRunId: number): Promise<StepRun[]>
  /** listByRun for `reader`: empty unless the run's project has no token or the reader presented it. */
  listByRunFor(protocolRunId: number, reader: Reader): Promise<StepRun[]>
  /** As ProtocolRunRepository.compareAndSetStatus, for steps. */
  compareAndSetStatus(
    id: number,
    from: readonly StepStatus[],
    to: StepStatus,
    patch?: StepRunPatch,
  ): Promise<StepRun>
  /**
   * compareAndSetStatus and the event that records the change, appended only when the step moved:
   * on Postgres one statement, the hot path of every step outcome. The patch's `runtimeMerge` is
   * written into `runtime_state` by the same update, as mergeRuntimeState would.
   */
  compareAndSetStatusWithEvent(
    id: number,
    from: readonly StepStatus[],
    to: StepStatus,
    patch: StepStatusPatch | undefined,
    event: NewEvent,
  ): Promise<{ step: StepRun; event: OrchestratorEvent }>
  /**
   * A step's move without a read first: when its status is one of `move.from` it moves to
   * `move.to` (with `move.patch`) and `move.event` is appended with `movedMetadata`; otherwise
   * the event alone is appended with `unmovedMetadata` and the step is left as it is. The event is
   * attached to the step, its run and the run's project. Undefined (nothing written) when the step
   * is unknown; ORC_STATE_CHANGED when the step was in `from` but another writer moved it first.
   * On Postgres one statement.
   */
  moveIfAllowed(id: number, move: StepMove): Promise<StepMoveResult | undefined>
  /** Updates non-status fields; undefined when the step is unknown. */
  update(id: number, patch: StepRunPatch): Promise<StepRun | undefined>
  /**
   * Writes the keys of `changes` into `runtime_state` in one statement, from the stored value
   * rather than a copy the caller read (no lost update): each key replaces the stored one, a `null`
   * removes it. Keys named in `mergeKeys` hold maps (e.g. `loop_counts`) whose entries are laid
   * over the stored map instead. Undefined when the step is unknown.
   */
  mergeRuntimeState(
    id: number,
    changes: JsonObject,
    mergeKeys?: readonly string[],
  ): Promise<StepRun | undefined>
}

export interface EventFilter extends Page {
  readonly projectId?: number
  readonly protocolRunId?: number
  readonly eventType?: string
  /** ISO-8601 instant; only events created at or after it. */
  readonly since?: string
  /** Leave out events of these projects. */
  readonly excludeProjectIds?: readonly number[]
  /**
   * Only what this reader may see. With a run or project filter: nothing unless the project of
   * that run (and that project) has no token or the reader's, decided before any event is read.
   * Without either: only events of projects that have no token or the reader's. Absent: no such filter.
   */
  readonly readableBy?: Reader
  /** `desc` (default) lists newest first; `asc` oldest first, for replaying a stream. */
  readonly order?: 'asc' | 'desc'
}

export interface EventRepository {
  /** Appends one event; it becomes visible to readers when the surrounding transaction commits. */
  append(event: NewEvent): Promise<OrchestratorEvent>
  /** Events matching the filter with run and project names, newest first (id descending). */
  list(filter: EventFilter): Promise<EventWithContext[]>
}

export interface JobFilter {
  /** A stored status, or `delayed` for queued jobs waiting for their next run. */
  readonly status?: JobStatus | 'delayed'
  readonly projectId?: number
  /** Leave out jobs of these projects. */
  readonly excludeProjectIds?: readonly number[]
  readonly limit: number
}

/** The jobs table: the outbox every job is written to, in the transaction that implies it. */
export interface JobRepository {
  /** Records a queued job; it becomes runnable when the surrounding transaction commits. */
  add(job: NewJob): Promise<Job>
  findById(id: string): Promise<Job | undefined>
  /** Newest first. */
  list(filter: JobFilter): Promise<Job[]>
  /** How many jobs of a queue are in each reported state (zeros included). */
  counts(queue?: string): Promise<Record<JobStatKey, number>>
  /** Queued and held jobs of the run become cancelled; returns their ids. Started jobs are left to abortRun. */
  cancelForRun(protocolRunId: number): Promise<string[]>
  /** Held jobs of the run are queued again, due now (and due for relay again); returns them. */
  releaseHeld(protocolRunId: number): Promise<Job[]>
  /**
   * Starts `claim.attempt` of a job that is queued (or started by a worker that stalled), under
   * the claim's token with a lease until `leaseUntil`. Undefined when the job is no longer
   * runnable (finished, failed, cancelled, held): the caller drops its delivery.
   */
  begin(claim: JobClaim, leaseUntil: string): Promise<Job | undefined>
  /** Extends the claim's lease; false when another claim took the job over. */
  renewLease(claim: JobClaim, leaseUntil: string): Promise<boolean>
  /** Writes the attempt's outcome if the claim still owns the job; false (nothing written) otherwise. */
  settle(claim: JobClaim, settlement: JobSettlement): Promise<boolean>
  /** Started jobs of `type` for the step other than `exceptId`, oldest start first. */
  listStartedForStep(stepRunId: number, type: JobType, exceptId: string): Promise<Job[]>
  /**
   * What deciding whether a claimed job may run needs, read in one statement: its run's and
   * step's statuses, and how many other jobs of its type are executing its step.
   */
  precheckFacts(job: Job): Promise<PrecheckFacts>
}

/** See JobRepository.precheckFacts; a missing run or step reads as undefined. */
export interface PrecheckFacts {
  readonly runStatus: ProtocolStatus | undefined
  readonly stepStatus: StepStatus | undefined
  /** Started jobs of the job's type for its step, other than the job itself. */
  readonly otherStartedForStep: number
}

/** Provider delivery ids already processed, for replay safety. */
export interface WebhookDeliveryRepository {
  /** Records a delivery; false when it was recorded before (a replay). */
  record(provider: string, deliveryId: string): Promise<boolean>
}

/** The repositories bound to one transaction. */
export interface Repositories {
  readonly projects: ProjectRepository
  readonly runs: ProtocolRunRepository
  readonly steps: StepRunRepository
  readonly events: EventRepository
  readonly jobs: JobRepository
  readonly deliveries: WebhookDeliveryRepository
  readonly notifications: NotificationRepository
  readonly leases: RunLeaseRepository
  readonly engineLimits: EngineLimitRepository
  readonly reviews: ReviewCommentRepository
  readonly mcpTasks: McpTaskRepository
}

/**
 * Part of the data a read depends on. `run`: the run's row, its steps and its project's row (not
 * its events, which agents append all the time). `events`: all of `run` and the run's events.
 * `project`: the project's row and its runs' rows (not their steps or events). `all` (id 0): every
 * table, the committed data as this process can read it from any process (a rolled-back write may
 * move it too); asked with the others, a turn's reads of every kind share one statement.
 */
export interface ReadScope {
  readonly kind: 'run' | 'events' | 'project' | 'all'
  readonly id: number
}

/**
 * Version tokens of scopes, in the order asked: equal tokens for a scope mean equal data in it as
 * a read would see it (event listings included, which hold back what a running transaction may
 * still precede); any commit that changes it, by any process, makes the next token differ, while
 * commits elsewhere leave it alone (`all` has no elsewhere: every commit moves it). Undefined for
 * a scope no token can be vouched for at this moment (a write to it too recent to be final, an open
 * SQLite transaction of ours).
 */
export type ScopeVersions = (scopes: readonly ReadScope[]) => Promise<ReadonlyArray<string | undefined>>

/** What a transaction appended, announced once it has committed (never for a rolled-back one). */
export interface Committed {
  readonly events: readonly OrchestratorEvent[]
  readonly jobs: readonly Job[]
}

/** Told about every commit that appended events or jobs: feeds live streams and wakes the queue. */
export type CommitListener = (committed: Committed) => void

/** What an announcement says of one committed event: enough for a live stream to tell whether it may concern it. */
export type EventNews = Pick<OrchestratorEvent, 'id' | 'projectId' | 'protocolRunId' | 'eventType'>

/**
 * What one announcement names as committed; `undefined` when it does not say, so that anything
 * may have been (an announcement from a process that names nothing, a signal back after an outage).
 */
export type Announced = readonly EventNews[] | undefined

/**
 * A wake-up signal that new events were committed somewhere (this process or, with Redis or
 * Postgres LISTEN, any process). What it names is a hint for skipping needless reads, never the
 * data: readers re-read the events table, so an announcement may be lost, duplicated or name
 * nothing without losing an event.
 */
export interface EventSignal {
  /** Announces that events were committed; `news` names them when known. */
  notify(news?: readonly EventNews[]): void
  /** Calls `listener` after each announcement with what it named; returns the unsubscribe function. */
  subscribe(listener: (announced: Announced) => void): () => void
}

/** A run's status change inside a transaction, and how many events the transaction had appended before it. */
export interface RunStatusChange {
  readonly run: ProtocolRun
  readonly eventsBefore: number
}

/** What a transaction changed so far, handed to a BeforeCommit hook. */
export interface TransactionChanges {
  readonly runs: readonly RunStatusChange[]
  /** Steps moved by compareAndSetStatusWithEvent, with the event recording the move. */
  readonly steps: ReadonlyArray<{ readonly step: StepRun; readonly event: OrchestratorEvent }>
  readonly events: readonly OrchestratorEvent[]
  readonly jobs: readonly Job[]
}

/**
 * Runs at the end of every transaction that changed something, inside it: what it writes commits
 * (or rolls back) with the change that caused it. Outgoing notifications are derived here.
 */
export type BeforeCommit = (repos: Repositories, changes: TransactionChanges) => Promise<void>

export interface UnitOfWork {
  /**
   * Runs `work` in one transaction: everything it writes commits together or not at all.
   * No network, git or agent call belongs inside `work`.
   */
  run<T>(work: (repos: Repositories) => Promise<T>): Promise<T>
}

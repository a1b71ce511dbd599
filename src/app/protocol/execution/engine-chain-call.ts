import { selectEngineChain } from '../../../domain/engine-chain.js'
import type { JsonObject } from '../../../domain/json.js'
import { estimateTokens } from '../../../domain/tokens.js'
import type { ChangeOrigin } from '../../context.js'
import { parkStep, usageLimitOf, type EngineChoice, type UsageLimit } from '../../runs/quota-parking.js'
import type { ProtocolJobDeps } from '../protocol-job-deps.js'
import { callEngineInSession } from './agent-session-call.js'
import { chooseEngine, type EngineCallInput, type EngineCallOutcome } from './engine-call.js'
import type { StepScope } from './step-context.js'

/** Why the chain moved past an entry. */
export type FallbackReason = 'usage_limit' | 'engine_unavailable' | 'circuit_breaker'

/** One entry the chain moved past, as recorded in the step's events. */
export interface FallbackHop {
  readonly engine_id: string
  readonly model: string | null
  readonly reason: FallbackReason
}

/** A call's outcome and the entries passed over before it (empty when the first one ran). */
export type ChainCallOutcome = EngineCallOutcome & { readonly fallbackFrom: readonly FallbackHop[] }

interface Limited {
  readonly engine: EngineChoice
  readonly resumeAt: Date
  readonly metadata: JsonObject
}

/**
 * The chain a step executes with: the first one named by the step's spec, the step run, the
 * protocol spec or the project; else the single engine/model resolution as a chain of one. An
 * entry without a model uses its engine's default (the other levels' models name another engine's).
 */
export const stepEngineChain = (deps: ProtocolJobDeps, input: EngineCallInput): EngineChoice[] => {
  const chain = selectEngineChain({
    stepSpec: input.stepSpec?.engines,
    stepRun: input.stepRun?.engines,
    protocolSpec: input.spec?.engines,
    project: input.project.engines,
  })
  if (!chain) {
    const { engineId, model } = chooseEngine(deps, input)
    return [{ engineId, model }]
  }
  return chain.map(({ engine, model }) => ({
    engineId: engine,
    model: model ?? (deps.engines.has(engine) ? deps.engines.get(engine).defaultModel : null),
  }))
}

/**
 * Runs the step's engine chain in this attempt: an entry that reports a usage limit, whose binary
 * is missing (or which this worker does not register), or whose engine's breaker is open, hands
 * over to the next one (`engine_fallback`). When every entry was limited the step parks in
 * `waiting_quota` until the earliest reset (throws JobDeferral); when none was but none could
 * run, the last unavailability is the outcome. Token budgets see what earlier entries spent, and
 * the engine time limit is shared by the whole chain. `breakersAtStart`, the open breakers the
 * caller has just read (parkIfChainLimited's answer), saves the first entry a second read.
 */
export const callEngineChain = async (
  deps: ProtocolJobDeps,
  context: StepScope,
  input: EngineCallInput,
  ctx: ChangeOrigin,
  breakersAtStart?: ReadonlyMap<string, string>,
): Promise<ChainCallOutcome> => {
  const chain = stepEngineChain(deps, input)
  const startedAt = Date.now()
  const hops: FallbackHop[] = []
  const limited: Limited[] = []
  let spentTokens = 0
  let unavailable: EngineCallOutcome | undefined
  // The breakers the caller read just before the chain serve its first entry; every later entry
  // reads its own (hops and calls come between, and another worker may open a breaker meanwhile).
  const limitedUntil = (index: number, engineId: string): Promise<string | undefined> =>
    index === 0 && breakersAtStart
      ? Promise.resolve(breakersAtStart.get(engineId))
      : deps.engineLimits.limitedUntil(engineId, new Date())
  for (const [index, engine] of chain.entries()) {
    const next = chain[index + 1]
    const hop = (reason: FallbackReason, metadata: JsonObject = {}) =>
      recordHop(deps, context, { from: engine, to: next, reason, metadata }, ctx).then(() => {
        hops.push({ engine_id: engine.engineId, model: engine.model, reason })
      })
    const until = await limitedUntil(index, engine.engineId)
    if (until !== undefined) {
      limited.push({ engine, resumeAt: new Date(until), metadata: { source: 'circuit_breaker' } })
      await hop('circuit_breaker', { limited_until: until })
      continue
    }
    const timeoutMs = deps.engineTimeoutMs - (Date.now() - startedAt)
    if (timeoutMs <= 0) return { ...chainTimedOut(deps, input, engine), fallbackFrom: hops }
    if (!deps.engines.has(engine.engineId)) {
      unavailable = notRegistered(input, engine)
      await hop('engine_unavailable', { not_registered: true })
      continue
    }
    const run = { ...input.run, tokensUsed: input.run.tokensUsed + spentTokens }
    const call = await callEngineInSession(
      deps,
      context,
      { ...input, run, chainEntry: { ...engine, timeoutMs } },
      ctx,
    )
    if (call.kind === 'failed' && call.failure.eventType === 'engine_unavailable') {
      unavailable = call
      await hop('engine_unavailable', call.failure.metadata)
      continue
    }
    const limit = call.kind === 'done' ? usageLimitOf(call.result, new Date()) : undefined
    if (call.kind !== 'done' || !limit) return { ...call, fallbackFrom: hops }
    spentTokens += await recordLimitedCall(deps, context, { engine, call, limit })
    limited.push({ engine, resumeAt: limit.resumeAt, metadata: limitMetadata(call, limit) })
    await hop('usage_limit', { limited_until: limit.resumeAt.toISOString(), quote: limit.quote })
  }
  if (limited.length > 0) return parkOnEarliest(deps, context, { limited, chainLength: chain.length }, ctx)
  return { ...unavailable!, fallbackFrom: hops }
}

/** Event metadata naming the entries a successful call fell back from (nothing when none). */
export const fallbackMetadata = (call: object): JsonObject =>
  'fallbackFrom' in call && Array.isArray(call.fallbackFrom) && call.fallbackFrom.length > 0
    ? { fallback_from: (call.fallbackFrom as FallbackHop[]).map((hop) => ({ ...hop })) }
    : {}

const limitMetadata = (
  call: Extract<EngineCallOutcome, { kind: 'done' }>,
  limit: UsageLimit,
): JsonObject => ({
  source: 'engine_output',
  quote: limit.quote,
  reset_printed: limit.printed,
  exit_code: call.result.exitCode,
})

/**
 * A limited call: the engine's breaker opens for every worker at once (so other steps skip it
 * without spawning), and whatever the call spent is added to the run and the step, so the next
 * entry's budget check and the step's usage see it. Returns the tokens spent.
 */
const recordLimitedCall = async (
  deps: ProtocolJobDeps,
  context: StepScope,
  limited: {
    readonly engine: EngineChoice
    readonly call: Extract<EngineCallOutcome, { kind: 'done' }>
    readonly limit: UsageLimit
  },
): Promise<number> => {
  const { engine, call, limit } = limited
  const usage = call.result.usage
  const tokens = usage ? usage.prompt + usage.completion : 0
  const costUsd = call.result.costUsd ?? 0
  await deps.uow.run(async (tx) => {
    await tx.engineLimits.limit(engine.engineId, limit.resumeAt, `${engine.engineId}: ${limit.quote}`)
    if (tokens === 0 && costUsd === 0) return
    // An increment, not a write of what was read: another job of the run may add its own meanwhile.
    await tx.runs.addUsage(context.run.id, tokens, costUsd)
    const step = await tx.steps.findById(context.step.id)
    if (step)
      await tx.steps.update(step.id, {
        tokensUsed: step.tokensUsed + tokens,
        costUsd: step.costUsd + costUsd,
      })
  })
  return tokens
}

/** `engine_fallback` when a next entry takes over; the last entry's outcome speaks for itself. */
const recordHop = async (
  deps: ProtocolJobDeps,
  context: StepScope,
  hop: {
    readonly from: EngineChoice
    readonly to: EngineChoice | undefined
    readonly reason: FallbackReason
    readonly metadata: JsonObject
  },
  ctx: ChangeOrigin,
): Promise<void> => {
  const { from, to, reason } = hop
  if (!to) return
  const label = (e: EngineChoice) => `${e.engineId}${e.model ? ` (${e.model})` : ''}`
  await deps.uow.run((tx) =>
    tx.events.append({
      projectId: context.run.projectId,
      protocolRunId: context.run.id,
      stepRunId: context.step.id,
      eventType: 'engine_fallback',
      message: `Step ${context.step.stepName}: ${label(from)} ${REASON_TEXT[reason]}; falling back to ${label(to)}.`,
      metadata: {
        ...hop.metadata,
        reason,
        from: { engine_id: from.engineId, model: from.model },
        to: { engine_id: to.engineId, model: to.model },
        ...(ctx.jobId ? { job_id: ctx.jobId } : {}),
      },
    }),
  )
}

const REASON_TEXT: Record<FallbackReason, string> = {
  usage_limit: 'reported a usage limit',
  engine_unavailable: 'is not available here',
  circuit_breaker: 'is limited (circuit breaker)',
}

/** Every entry was limited: the step waits for the first one to come back. */
const parkOnEarliest = (
  deps: ProtocolJobDeps,
  context: StepScope,
  { limited, chainLength }: { readonly limited: readonly Limited[]; readonly chainLength: number },
  ctx: ChangeOrigin,
): Promise<never> => {
  const earliest = limited.reduce((a, b) => (b.resumeAt < a.resumeAt ? b : a))
  const resumeAt = earliest.resumeAt.toISOString()
  const quote = typeof earliest.metadata.quote === 'string' ? ` (${earliest.metadata.quote})` : ''
  const message =
    chainLength > 1
      ? `Every engine of step ${context.step.stepName}'s chain is limited; the step resumes at ${resumeAt} with ${earliest.engine.engineId}${quote}.`
      : `Engine ${earliest.engine.engineId} reported a usage limit${quote}; step ${context.step.stepName} resumes at ${resumeAt}.`
  const chain: JsonObject =
    chainLength > 1
      ? {
          chain: limited.map((l) => ({
            engine_id: l.engine.engineId,
            model: l.engine.model,
            limited_until: l.resumeAt.toISOString(),
          })),
        }
      : {}
  return parkStep(
    deps,
    context,
    {
      engine: earliest.engine,
      resumeAt: earliest.resumeAt,
      message,
      metadata: { ...earliest.metadata, ...chain },
    },
    ctx,
  )
}

const notRegistered = (input: EngineCallInput, engine: EngineChoice): EngineCallOutcome => ({
  ...engine,
  estimate: estimateTokens(input.prompt),
  kind: 'failed',
  failure: {
    eventType: 'engine_unavailable',
    message: `Engine ${JSON.stringify(engine.engineId)} is not registered on this worker`,
    metadata: { binary: null },
  },
})

const chainTimedOut = (
  deps: ProtocolJobDeps,
  input: EngineCallInput,
  engine: EngineChoice,
): EngineCallOutcome => ({
  ...engine,
  estimate: estimateTokens(input.prompt),
  kind: 'failed',
  failure: {
    eventType: 'engine_timeout',
    message: `The engine chain used its ${Math.round(deps.engineTimeoutMs / 1000)} s time limit before ${engine.engineId} could run`,
    metadata: { binary: null },
  },
})

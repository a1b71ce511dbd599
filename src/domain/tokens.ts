/** How a token budget is enforced (the same values as the config's TOKEN_BUDGET_MODES). */
export type TokenBudgetMode = 'strict' | 'warn' | 'off'

/**
 * Estimated prompt tokens: a quarter of the length in Unicode code points (as the original
 * counted Python characters), rounded up, at least 1.
 */
export const estimateTokens = (text: string): number => {
  let codePoints = 0
  for (const _ of text) codePoints++
  return Math.max(1, Math.ceil(codePoints / 4))
}

export interface BudgetLimits {
  /** Largest estimate one prompt (one engine call) may have. */
  readonly maxTokensPerStep: number | undefined
  /** Largest total a protocol run may accumulate over all its calls, this one included. */
  readonly maxTokensPerProtocol: number | undefined
  readonly mode: TokenBudgetMode
}

export interface BudgetBreach {
  readonly scope: 'step' | 'protocol'
  readonly limit: number
  /** The estimate (step) or the run's total including the estimate (protocol). */
  readonly tokens: number
}

export type BudgetDecision =
  | { readonly outcome: 'within' }
  | {
      readonly outcome: 'warn' | 'refuse'
      readonly breaches: readonly BudgetBreach[]
      readonly message: string
    }

/**
 * Decides whether a call of `estimate` tokens may go ahead when the run has already used
 * `usedByProtocol`. `strict` refuses, `warn` lets it through with a warning, `off` checks nothing.
 * A limit is breached only when exceeded (equal passes), as in the original.
 */
export const decideBudget = (
  estimate: number,
  usedByProtocol: number,
  limits: BudgetLimits,
  context: string,
): BudgetDecision => {
  if (limits.mode === 'off') return { outcome: 'within' }
  const breaches: BudgetBreach[] = []
  const { maxTokensPerStep: step, maxTokensPerProtocol: protocol } = limits
  if (step !== undefined && estimate > step) breaches.push({ scope: 'step', limit: step, tokens: estimate })
  const total = usedByProtocol + estimate
  if (protocol !== undefined && total > protocol)
    breaches.push({ scope: 'protocol', limit: protocol, tokens: total })
  if (breaches.length === 0) return { outcome: 'within' }
  return {
    outcome: limits.mode === 'warn' ? 'warn' : 'refuse',
    breaches,
    message: breaches.map((breach) => describeBreach(breach, context)).join(' '),
  }
}

const describeBreach = (breach: BudgetBreach, context: string): string =>
  breach.scope === 'step'
    ? `Estimated prompt tokens (${breach.tokens}) exceed the per-step limit (${breach.limit}) for ${context}.`
    : `The protocol would reach ${breach.tokens} tokens, over its limit (${breach.limit}), with ${context}.`

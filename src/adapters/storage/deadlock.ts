/** True when Postgres broke a cycle of row locks by failing this transaction (`deadlock_detected`). */
export const isDeadlock = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '40P01'

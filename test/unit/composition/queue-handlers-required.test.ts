import { describe, expect, it } from 'vitest'
import { createQueueRuntime, createWorkerRuntime, type QueueParts } from '../../../src/composition/index.js'

// Never called: the `@ts-expect-error` lines are the assertion, checked by `tsc` (npm run typecheck).
const refusedWithoutHandlers = (parts: QueueParts): void => {
  // @ts-expect-error a queue cannot be built without its job handlers
  createQueueRuntime(parts, { concurrency: 1 })
  // @ts-expect-error nor a worker
  createWorkerRuntime(parts, {})
}

describe('queue wiring', () => {
  it('has no fallback handlers: a queue or worker without handlers does not type-check', () => {
    expect(typeof refusedWithoutHandlers).toBe('function')
  })
})

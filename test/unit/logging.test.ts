import { describe, expect, it } from 'vitest'
import { createLogger } from '../../src/logging.js'

const config = { env: 'test', log: { level: 'error', json: false } } as const

describe('process logger', () => {
  it('makes many loggers for stdout without MaxListenersExceededWarning', async () => {
    const warnings: Error[] = []
    const onWarning = (warning: Error): void => void warnings.push(warning)
    process.on('warning', onWarning)
    try {
      createLogger(config)
      const closeListeners = process.stdout.listenerCount('close')
      // The queue bench makes a logger per measured row: more than Node's limit of 10 in one process.
      for (let i = 0; i < 25; i += 1) createLogger(config).debug('logger %d', i)
      await new Promise((resolve) => setImmediate(resolve))
      expect(process.stdout.listenerCount('close')).toBe(closeListeners)
      expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual([])
    } finally {
      process.off('warning', onWarning)
    }
  })
})

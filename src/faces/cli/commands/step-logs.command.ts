import type { Command } from 'commander'
import { contextOf, example, argId, type CliContext } from '../context.js'
import { followSse } from '../sse-reader.js'

/** `steps logs <id> [--follow]`: an engine's output for one step, optionally streamed live over SSE. */
export const registerStepLogs = (steps: Command): void => {
  steps
    .command('logs <id>')
    .description("Print a step's engine output; --follow streams new output until interrupted")
    .option('-f, --follow', 'keep streaming new output (SSE, resumes with Last-Event-ID)')
    .addHelpText('after', example('tasksgodzilla steps logs 40 --follow'))
    .action(async (id: string, options: { follow?: boolean }, command: Command) => {
      const ctx = contextOf(command)
      const stepId = argId(id)
      if (options.follow) return followLogs(ctx, stepId)
      const logs = await ctx.client.get<unknown>(`/steps/${stepId}/logs`)
      ctx.write(ctx.json ? `${JSON.stringify(logs, null, 2)}\n` : logText(logs))
    })
}

const followLogs = async (ctx: CliContext, stepId: number): Promise<void> => {
  const stop = new AbortController()
  const onSignal = (): void => stop.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  // The log stream has no ids: every connection replays the log from its first line, so after a
  // reconnect the lines already printed are skipped.
  let printed = 0
  let inConnection = 0
  try {
    await followSse(
      ctx.client,
      `/steps/${stepId}/logs`,
      { follow: 1 },
      (message) => {
        // The server ends the stream with an `end` event once the step stops running.
        if (message.event === 'end') return stop.abort()
        inConnection += 1
        if (inConnection <= printed) return
        printed += 1
        ctx.write(ctx.json ? `${message.data}\n` : logText(parseData(message.data)))
      },
      {
        signal: stop.signal,
        onReconnect: () => {
          inConnection = 0
          process.stderr.write('tasksgodzilla: log stream lost; resuming…\n')
        },
      },
    )
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

const parseData = (data: string): unknown => {
  try {
    return JSON.parse(data)
  } catch {
    return data
  }
}

const TEXT_FIELDS = ['text', 'line', 'content', 'chunk', 'message', 'data'] as const
const LIST_FIELDS = ['chunks', 'lines', 'logs', 'entries'] as const

/** Log payloads as text: a string, a `{text}`-like chunk, or a list of either; anything else as JSON. */
export const logText = (value: unknown): string => {
  if (typeof value === 'string') return value.endsWith('\n') ? value : `${value}\n`
  if (Array.isArray(value)) return value.map(logText).join('')
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>
    for (const field of LIST_FIELDS) if (Array.isArray(record[field])) return logText(record[field])
    for (const field of TEXT_FIELDS) if (typeof record[field] === 'string') return logText(record[field])
  }
  return `${JSON.stringify(value)}\n`
}

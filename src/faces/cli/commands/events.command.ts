import type { Command } from 'commander'
import type { EventOut } from '../api-types.js'
import { contextOf, emit, example, parseId, parsePositive, type CliContext } from '../context.js'
import { renderTable } from '../output/table.js'
import { eventColumns, eventLine } from '../output/views.js'
import { followSse } from '../sse-reader.js'

interface ListOptions {
  project?: number
  protocol?: number
  type?: string
  limit: number
}

interface WatchOptions {
  project?: number
  protocol?: number
  type?: string
  after?: number
  count?: number
}

export const registerEvents = (program: Command): void => {
  const events = program
    .command('events')
    .alias('event')
    .description('The append-only event timeline, recent or live')
    .addHelpText(
      'after',
      example('tasksgodzilla events list --project 3', 'tasksgodzilla events watch --protocol 12'),
    )

  events
    .command('list')
    .alias('recent')
    .description('Recent events, oldest first (the API sends newest first; --json keeps its order)')
    .option('--project <id>', 'only this project', parseId)
    .option('--protocol <id>', 'only this protocol run', parseId)
    .option('--type <event_type>', 'only this event type')
    .option('--limit <n>', 'how many', parsePositive, 20)
    .addHelpText('after', example('tasksgodzilla events list --protocol 12 --limit 50'))
    .action(async (options: ListOptions, command: Command) => {
      const ctx = contextOf(command)
      const list = await ctx.client.get<EventOut[]>('/events', {
        project_id: options.project,
        protocol_run_id: options.protocol,
        event_type: options.type,
        limit: options.limit,
      })
      emit(ctx, list, () => renderTable(eventColumns(), [...list].reverse(), ctx.style, 'No events.'))
    })

  registerWatch(events)
}

const watchEvents = async (ctx: CliContext, options: WatchOptions): Promise<void> => {
  const stop = new AbortController()
  const onSignal = (): void => stop.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  let seen = 0
  const query = { project_id: options.project, protocol_run_id: options.protocol, event_type: options.type }
  // Start from the newest matching event, so even a reconnect before the first message misses nothing.
  const after = options.after ?? (await latestId(ctx, query))
  try {
    await followSse(
      ctx.client,
      '/events/stream',
      query,
      (message) => {
        if (stop.signal.aborted) return
        const event = JSON.parse(message.data) as EventOut
        ctx.write(ctx.json ? `${JSON.stringify(event)}\n` : `${eventLine(event, ctx.style)}\n`)
        seen += 1
        if (options.count !== undefined && seen >= options.count) stop.abort()
      },
      {
        signal: stop.signal,
        lastEventId: after === undefined ? undefined : String(after),
        onReconnect: (id) =>
          process.stderr.write(`tasksgodzilla: event stream lost; resuming after ${id ?? 'now'}\n`),
      },
    )
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

const latestId = async (ctx: CliContext, query: Record<string, string | number | undefined>) => {
  const [newest] = await ctx.client.get<EventOut[]>('/events', { ...query, limit: 1 })
  return newest?.id
}

const registerWatch = (events: Command): void => {
  events
    .command('watch')
    .description('Stream new events as they happen (SSE); reconnects and resumes without repeats')
    .option('--project <id>', 'only this project', parseId)
    .option('--protocol <id>', 'only this protocol run', parseId)
    .option('--type <event_type>', 'only this event type')
    .option('--after <event_id>', 'first replay the events after this id', parseId)
    .option('--count <n>', 'exit after this many events', parsePositive)
    .addHelpText(
      'after',
      example('tasksgodzilla events watch --protocol 12', 'tasksgodzilla events watch --json | jq .'),
    )
    .action(async (options: WatchOptions, command: Command) => watchEvents(contextOf(command), options))
}

import { StringDecoder } from 'node:string_decoder'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { App } from '../../../app/app.js'
import type { ChangeOrigin } from '../../../app/context.js'
import { AppError } from '../../../domain/app-error.js'
import { logSize, logStream, readChunk, tailOffset } from '../log-file.js'
import { contextOf } from '../request-context.js'
import { ERROR_RESPONSES } from '../schemas/common.schema.js'
import { StepParams } from '../schemas/protocol.schema.js'

const POLL_MS = 500
/** Chunks one follow tick may send before yielding to the next tick (a burst cannot hog the loop). */
const CHUNKS_PER_TICK = 16
const MAX_TAIL_LINES = 100_000
const LogQuery = Type.Object({
  follow: Type.Optional(Type.Union([Type.Literal('1'), Type.Literal('0')])),
  tail: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TAIL_LINES })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
})

/**
 * `GET /steps/{id}/logs`: the step's agent log (the file execute_step_job records in
 * `runtime_state.log_path`) streamed as text/plain, never read whole into memory. `?tail=N` starts
 * at the last N lines, `?offset=B` at byte B; `X-Log-Size` says where the log ended, to resume
 * from. With `?follow=1`, Server-Sent Events carrying each line (from the same start, then
 * appended) until the step leaves `running`, then an `end` event; follows count against the
 * caller's stream cap (429 past it).
 */
export const stepLogRoutes: FastifyPluginAsyncTypebox<{ app: App }> = async (server, { app }) => {
  const openStreams = new Set<() => void>()
  server.addHook('preClose', async () => [...openStreams].forEach((end) => end()))
  server.get(
    '/steps/:step_run_id/logs',
    {
      schema: {
        tags: ['steps'],
        params: StepParams,
        querystring: LogQuery,
        produces: ['text/plain', 'text/event-stream'],
        response: { 200: Type.String(), ...ERROR_RESPONSES },
      },
    },
    async (req, reply) => {
      const ctx = contextOf(req)
      const step = await app.getStep(req.params.step_run_id, ctx)
      const path = logPathOf(step.runtimeState)
      const { tail, offset } = req.query
      if (tail !== undefined && offset !== undefined)
        throw new AppError('ORC_VALIDATION_FAILED', `Give tail (${tail}) or offset (${offset}), not both`)
      const size = path ? logSize(path) : 0
      const start = path && tail !== undefined ? tailOffset(path, size, tail) : Math.min(offset ?? 0, size)
      if (req.query.follow === '1') {
        server.holdStreamSlot(req, reply)
        followLog(req, reply, { app, ctx, stepId: step.id, path, start, openStreams })
        return reply
      }
      reply.type('text/plain; charset=utf-8').header('x-log-size', String(size))
      if (!path || start >= size) return ''
      // Fastify pipes a stream without serializing it; the 200 schema types the body as its text.
      return reply.send(logStream(path, start, size) as unknown as string)
    },
  )
}

const logPathOf = (state: Record<string, unknown> | null): string | null =>
  typeof state?.log_path === 'string' ? state.log_path : null

interface FollowOptions {
  readonly app: App
  readonly ctx: ChangeOrigin
  readonly stepId: number
  readonly path: string | null
  /** Byte offset to start from (0, `offset`, or where the `tail` lines begin). */
  readonly start: number
  readonly openStreams: Set<() => void>
}

const followLog = (req: FastifyRequest, reply: FastifyReply, options: FollowOptions): void => {
  reply.hijack()
  const out = reply.raw
  out.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-request-id': req.id,
  })
  const lines = lineSender((line) => out.write(`data: ${JSON.stringify(line)}\n\n`))
  let offset = options.start
  let path = options.path
  let done = false
  const flush = (): void => {
    for (let i = 0; path && i < CHUNKS_PER_TICK; i++) {
      const chunk = readChunk(path, offset)
      if (chunk.length === 0) return
      offset += chunk.length
      lines.push(chunk)
    }
  }
  const end = (): void => {
    if (done) return
    done = true
    clearInterval(timer)
    options.openStreams.delete(end)
    flush()
    lines.finish()
    out.end('event: end\ndata: {}\n\n')
  }
  const tick = async (): Promise<void> => {
    try {
      const step = await options.app.getStep(options.stepId, options.ctx)
      path = logPathOf(step.runtimeState) ?? path
      flush()
      if (step.status !== 'running') end()
    } catch (error) {
      if (done) return
      req.log.warn({ err: error }, 'step log stream failed')
      end()
    }
  }
  const timer = setInterval(() => void tick(), POLL_MS)
  options.openStreams.add(end)
  out.on('close', () => {
    clearInterval(timer)
    options.openStreams.delete(end)
  })
  void tick()
}

/** Splits bytes into lines (UTF-8 kept whole across chunks) and sends each complete one. */
const lineSender = (send: (line: string) => void) => {
  const decoder = new StringDecoder('utf8')
  let partial = ''
  return {
    push(chunk: Buffer): void {
      const parts = (partial + decoder.write(chunk)).split('\n')
      partial = parts.pop() ?? ''
      for (const line of parts) send(line)
    },
    finish(): void {
      const rest = partial + decoder.end()
      partial = ''
      if (rest) send(rest)
    },
  }
}

import { closeSync, openSync, readSync, statSync } from 'node:fs'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { App } from '../../../app/app.js'
import type { ChangeOrigin } from '../../../app/context.js'
import { contextOf } from '../request-context.js'
import { ERROR_RESPONSES } from '../schemas/common.schema.js'
import { StepParams } from '../schemas/protocol.schema.js'

const POLL_MS = 500
const LogQuery = Type.Object({ follow: Type.Optional(Type.Union([Type.Literal('1'), Type.Literal('0')])) })

/**
 * `GET /steps/{id}/logs`: the step's agent log (the file execute_step_job records in
 * `runtime_state.log_path`) as text/plain; with `?follow=1`, Server-Sent Events carrying each
 * line (existing, then appended) until the step leaves `running`, then an `end` event.
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
      if (req.query.follow !== '1') {
        reply.type('text/plain; charset=utf-8')
        return path ? readFrom(path, 0).text : ''
      }
      followLog(req, reply, { app, ctx, stepId: step.id, path, openStreams })
      return reply
    },
  )
}

const logPathOf = (state: Record<string, unknown> | null): string | null =>
  typeof state?.log_path === 'string' ? state.log_path : null

/** Bytes of `path` from `offset` (empty when the file is not there yet). */
const readFrom = (path: string, offset: number): { text: string; size: number } => {
  let size: number
  try {
    size = statSync(path).size
  } catch {
    return { text: '', size: offset }
  }
  if (size <= offset) return { text: '', size: offset }
  const buffer = Buffer.alloc(size - offset)
  const fd = openSync(path, 'r')
  try {
    readSync(fd, buffer, 0, buffer.length, offset)
  } finally {
    closeSync(fd)
  }
  return { text: buffer.toString('utf8'), size }
}

interface FollowOptions {
  readonly app: App
  readonly ctx: ChangeOrigin
  readonly stepId: number
  readonly path: string | null
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
  let offset = 0
  let partial = ''
  let path = options.path
  let done = false
  const flush = (): void => {
    if (!path) return
    const chunk = readFrom(path, offset)
    offset = chunk.size
    const lines = (partial + chunk.text).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) out.write(`data: ${JSON.stringify(line)}\n\n`)
  }
  const end = (): void => {
    if (done) return
    done = true
    clearInterval(timer)
    options.openStreams.delete(end)
    flush()
    if (partial) out.write(`data: ${JSON.stringify(partial)}\n\n`)
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
  req.raw.on('close', () => {
    clearInterval(timer)
    options.openStreams.delete(end)
  })
  void tick()
}

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { App } from '../../../app/app.js'
import type { JsonObject } from '../../../domain/json.js'
import { toActionReply, toRunOut } from '../presenters.js'
import { contextOf } from '../request-context.js'
import { ActionReply, ERROR_RESPONSES, PageQuery } from '../schemas/common.schema.js'
import { ProjectParams } from '../schemas/project.schema.js'
import { ProtocolCreate, ProtocolRunOut, RunParams, SpecOut } from '../schemas/protocol.schema.js'

type RunAction = 'startProtocol' | 'runNextStep' | 'retryLatest' | 'openPr'
type RunStateAction = 'pauseProtocol' | 'resumeProtocol' | 'cancelProtocol'

const JOB_ACTIONS: ReadonlyArray<readonly [string, RunAction]> = [
  ['start', 'startProtocol'],
  ['run_next_step', 'runNextStep'],
  ['retry_latest', 'retryLatest'],
  ['open_pr', 'openPr'],
]
const STATE_ACTIONS: ReadonlyArray<readonly [string, RunStateAction]> = [
  ['pause', 'pauseProtocol'],
  ['resume', 'resumeProtocol'],
  ['cancel', 'cancelProtocol'],
]

export const protocolRoutes: FastifyPluginAsyncTypebox<{ app: App }> = async (server, { app }) => {
  const tags = ['protocols']

  server.post(
    '/projects/:project_id/protocols',
    {
      schema: {
        tags,
        params: ProjectParams,
        body: ProtocolCreate,
        response: { 200: ProtocolRunOut, ...ERROR_RESPONSES },
      },
    },
    async (req) => {
      const b = req.body
      const run = await app.createProtocol(
        req.params.project_id,
        {
          protocolName: b.protocol_name,
          status: b.status ?? 'pending',
          baseBranch: b.base_branch,
          worktreePath: b.worktree_path ?? null,
          protocolRoot: b.protocol_root ?? null,
          description: b.description ?? null,
          templateConfig: (b.template_config ?? null) as JsonObject | null,
          templateSource: (b.template_source ?? null) as JsonObject | null,
        },
        contextOf(req),
      )
      return toRunOut(run)
    },
  )

  server.get(
    '/projects/:project_id/protocols',
    {
      config: { memoize: 'project' },
      schema: {
        tags,
        params: ProjectParams,
        querystring: PageQuery,
        response: { 200: Type.Array(ProtocolRunOut), ...ERROR_RESPONSES },
      },
    },
    async (req) => {
      const { limit = 100, before_id: beforeId, after_id: afterId } = req.query
      const runs = await app.listProtocols(
        req.params.project_id,
        { limit, beforeId, afterId },
        contextOf(req),
      )
      return runs.map(toRunOut)
    },
  )

  server.get(
    '/protocols/:protocol_run_id',
    {
      config: { memoize: 'run' },
      schema: { tags, params: RunParams, response: { 200: ProtocolRunOut, ...ERROR_RESPONSES } },
    },
    async (req) => toRunOut(await app.getProtocol(req.params.protocol_run_id, contextOf(req))),
  )

  server.get(
    '/protocols/:protocol_run_id/spec',
    { schema: { tags, params: RunParams, response: { 200: SpecOut, ...ERROR_RESPONSES } } },
    async (req) => {
      const { run, summary } = await app.getSpec(req.params.protocol_run_id, contextOf(req))
      return {
        protocol_run_id: run.id,
        protocol_name: run.protocolName,
        project_id: run.projectId,
        spec: summary.spec,
        spec_hash: summary.specHash,
        validation_status: summary.validationStatus,
        validation_errors: summary.validationErrors,
        validated_at: summary.validatedAt,
      }
    },
  )

  for (const [path, action] of JOB_ACTIONS) {
    server.post(
      `/protocols/:protocol_run_id/actions/${path}`,
      { schema: { tags, params: RunParams, response: { 200: ActionReply, ...ERROR_RESPONSES } } },
      async (req) => toActionReply(await app[action](req.params.protocol_run_id, contextOf(req))),
    )
  }

  for (const [path, action] of STATE_ACTIONS) {
    server.post(
      `/protocols/:protocol_run_id/actions/${path}`,
      { schema: { tags, params: RunParams, response: { 200: ProtocolRunOut, ...ERROR_RESPONSES } } },
      async (req) => toRunOut(await app[action](req.params.protocol_run_id, contextOf(req))),
    )
  }
}

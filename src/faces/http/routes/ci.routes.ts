import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { TriggerCiResult } from '../../../app/ci/trigger-ci.js'
import type { ChangeOrigin } from '../../../app/context.js'
import { contextOf } from '../request-context.js'
import { Detail, ERROR_RESPONSES } from '../schemas/common.schema.js'
import { RunParams } from '../schemas/protocol.schema.js'

export interface CiRouteDeps {
  readonly triggerCi: (
    runId: number,
    workflow: string | undefined,
    ctx: ChangeOrigin,
  ) => Promise<TriggerCiResult>
}

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()])

const TriggerBody = Type.Object(
  {
    workflow: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$',
        description: 'GitHub workflow file name or id; default TASKSGODZILLA_CI_WORKFLOW (ci.yml)',
      }),
    ),
  },
  { additionalProperties: false },
)

const TriggerReply = Type.Object({
  message: Type.String(),
  provider: Type.String(),
  via: Type.String({ description: 'api (host token) or cli (gh/glab on the server)' }),
  ref: Type.String(),
  workflow: Nullable(Type.String()),
  pipeline_id: Type.Union([Type.Integer(), Type.Null()]),
  url: Nullable(Type.String()),
})

/** `POST /protocols/{id}/actions/trigger_ci`: runs the project's CI on the run's branch. */
export const ciRoutes: FastifyPluginAsyncTypebox<CiRouteDeps> = async (server, { triggerCi }) => {
  server.post(
    '/protocols/:protocol_run_id/actions/trigger_ci',
    {
      schema: {
        tags: ['protocols'],
        params: RunParams,
        body: Type.Optional(TriggerBody),
        response: { 200: TriggerReply, ...ERROR_RESPONSES, 502: Detail },
      },
      // The body is optional: a bare POST means the configured workflow, not a 422.
      preValidation: async (req) => {
        req.body ??= {}
      },
    },
    async (req) => triggerCi(req.params.protocol_run_id, req.body?.workflow, contextOf(req)),
  )
}

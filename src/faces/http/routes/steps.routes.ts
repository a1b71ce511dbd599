import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { App } from '../../../app/app.js'
import type { JsonValue } from '../../../domain/json.js'
import { toActionReply, toStepOut } from '../presenters.js'
import { contextOf } from '../request-context.js'
import { ActionReply, ERROR_RESPONSES } from '../schemas/common.schema.js'
import { RunParams, StepCreate, StepParams, StepRunOut } from '../schemas/protocol.schema.js'

export const stepRoutes: FastifyPluginAsyncTypebox<{ app: App }> = async (server, { app }) => {
  const tags = ['steps']

  server.post(
    '/protocols/:protocol_run_id/steps',
    {
      schema: {
        tags,
        params: RunParams,
        body: StepCreate,
        response: { 200: StepRunOut, ...ERROR_RESPONSES },
      },
    },
    async (req) => {
      const b = req.body
      const step = await app.createStep(
        req.params.protocol_run_id,
        {
          stepIndex: b.step_index,
          stepName: b.step_name,
          stepType: b.step_type,
          status: b.status ?? 'pending',
          model: b.model ?? null,
          summary: b.summary ?? null,
          engineId: b.engine_id ?? null,
          engines: (b.engines ?? null) as JsonValue | null,
          policy: (b.policy ?? null) as JsonValue | null,
        },
        contextOf(req),
      )
      return toStepOut(step)
    },
  )

  server.get(
    '/protocols/:protocol_run_id/steps',
    {
      config: { memoize: 'run' },
      schema: { tags, params: RunParams, response: { 200: Type.Array(StepRunOut), ...ERROR_RESPONSES } },
    },
    async (req) => (await app.listSteps(req.params.protocol_run_id, contextOf(req))).map(toStepOut),
  )

  server.get(
    '/steps/:step_run_id',
    {
      config: { memoize: true },
      schema: { tags, params: StepParams, response: { 200: StepRunOut, ...ERROR_RESPONSES } },
    },
    async (req) => toStepOut(await app.getStep(req.params.step_run_id, contextOf(req))),
  )

  server.post(
    '/steps/:step_run_id/actions/run',
    { schema: { tags, params: StepParams, response: { 200: ActionReply, ...ERROR_RESPONSES } } },
    async (req) => toActionReply(await app.runStep(req.params.step_run_id, contextOf(req))),
  )

  server.post(
    '/steps/:step_run_id/actions/run_qa',
    { schema: { tags, params: StepParams, response: { 200: ActionReply, ...ERROR_RESPONSES } } },
    async (req) => toActionReply(await app.runQa(req.params.step_run_id, contextOf(req))),
  )

  server.post(
    '/steps/:step_run_id/actions/approve',
    { schema: { tags, params: StepParams, response: { 200: StepRunOut, ...ERROR_RESPONSES } } },
    async (req) => toStepOut(await app.approveStep(req.params.step_run_id, contextOf(req))),
  )
}

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { App } from '../../../app/app.js'
import type { JsonObject, JsonValue } from '../../../domain/json.js'
import { toProjectOut } from '../presenters.js'
import { contextOf } from '../request-context.js'
import { ERROR_RESPONSES, PageQuery } from '../schemas/common.schema.js'
import {
  ClarificationAnswers,
  ProjectCreate,
  ProjectOut,
  ProjectParams,
  ProjectUpdate,
  ProjectUpdated,
} from '../schemas/project.schema.js'

export const projectRoutes: FastifyPluginAsyncTypebox<{ app: App }> = async (server, { app }) => {
  const tags = ['projects']

  server.post(
    '/projects',
    { schema: { tags, body: ProjectCreate, response: { 200: ProjectOut, ...ERROR_RESPONSES } } },
    async (req) => {
      const body = req.body
      const project = await app.createProject(
        {
          name: body.name,
          gitUrl: body.git_url,
          baseBranch: body.base_branch,
          localPath: body.local_path ?? null,
          ciProvider: body.ci_provider ?? null,
          defaultModels: body.default_models ?? null,
          engines: (body.engines ?? null) as JsonValue | null,
          secrets: (body.secrets ?? null) as JsonObject | null,
          reviewMode: body.review_mode ?? null,
        },
        contextOf(req),
      )
      return toProjectOut(project)
    },
  )

  server.get(
    '/projects',
    {
      config: { memoize: true },
      schema: { tags, querystring: PageQuery, response: { 200: Type.Array(ProjectOut), ...ERROR_RESPONSES } },
    },
    async (req) => {
      const { limit = 100, before_id: beforeId, after_id: afterId } = req.query
      return (await app.listProjects({ limit, beforeId, afterId }, contextOf(req))).map(toProjectOut)
    },
  )

  server.get(
    '/projects/:project_id',
    {
      config: { memoize: 'project' },
      schema: { tags, params: ProjectParams, response: { 200: ProjectOut, ...ERROR_RESPONSES } },
    },
    async (req) => toProjectOut(await app.getProject(req.params.project_id, contextOf(req))),
  )

  server.patch(
    '/projects/:project_id',
    {
      schema: {
        tags,
        params: ProjectParams,
        body: ProjectUpdate,
        response: { 200: ProjectUpdated, ...ERROR_RESPONSES },
      },
    },
    async (req) => {
      const {
        api_token,
        rotate_api_token,
        base_branch,
        local_path,
        ci_provider,
        default_models,
        engines,
        name,
      } = req.body
      const reviewMode = req.body.review_mode
      const { project, apiToken } = await app.updateProject(
        req.params.project_id,
        {
          name,
          baseBranch: base_branch,
          localPath: local_path,
          ciProvider: ci_provider,
          defaultModels: default_models,
          engines: engines as JsonValue | null | undefined,
          apiToken: api_token,
          rotateApiToken: rotate_api_token,
          reviewMode,
        },
        contextOf(req),
      )
      return apiToken === undefined
        ? toProjectOut(project)
        : { ...toProjectOut(project), api_token: apiToken }
    },
  )

  server.post(
    '/projects/:project_id/clarifications',
    {
      schema: {
        tags,
        params: ProjectParams,
        body: ClarificationAnswers,
        response: { 200: ProjectOut, ...ERROR_RESPONSES },
      },
    },
    async (req) =>
      toProjectOut(
        await app.answerClarifications(req.params.project_id, req.body.answers as JsonObject, contextOf(req)),
      ),
  )
}

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { ChangeOrigin } from '../../../app/context.js'
import { AppError } from '../../../domain/app-error.js'
import { contextOf } from '../request-context.js'
import { ERROR_RESPONSES, Id } from '../schemas/common.schema.js'

export interface BranchRouteDeps {
  readonly listBranches: (projectId: number, ctx: ChangeOrigin) => Promise<{ branches: string[] }>
  readonly deleteBranch: (
    projectId: number,
    branch: string,
    confirm: boolean,
    ctx: ChangeOrigin,
  ) => Promise<{ deleted: true; branch: string }>
}

const DELETE_SUFFIX = '/delete'

export const branchRoutes: FastifyPluginAsyncTypebox<BranchRouteDeps> = async (server, deps) => {
  const tags = ['branches']

  server.get(
    '/projects/:project_id/branches',
    {
      schema: {
        tags,
        params: Type.Object({ project_id: Id }),
        response: { 200: Type.Object({ branches: Type.Array(Type.String()) }), ...ERROR_RESPONSES },
      },
    },
    async (req) => deps.listBranches(req.params.project_id, contextOf(req)),
  )

  // `{branch}` may contain slashes, so the route takes the rest of the path and expects `/delete` at its end.
  server.post(
    '/projects/:project_id/branches/*',
    {
      schema: {
        tags,
        summary: 'POST /projects/{project_id}/branches/{branch}/delete',
        params: Type.Object({ project_id: Id, '*': Type.String() }),
        body: Type.Object({ confirm: Type.Boolean({ default: false }) }),
        response: {
          200: Type.Object({ deleted: Type.Boolean(), branch: Type.String() }),
          ...ERROR_RESPONSES,
        },
      },
    },
    async (req) => {
      const rest = req.params['*']
      if (!rest.endsWith(DELETE_SUFFIX) || rest.length === DELETE_SUFFIX.length) {
        throw new AppError('ORC_NOT_FOUND', 'Not Found')
      }
      // The router has already decoded the path once; decoding again would turn `%25` into `%`
      // and then fail (500) or name another branch.
      const branch = rest.slice(0, -DELETE_SUFFIX.length)
      return deps.deleteBranch(req.params.project_id, branch, req.body.confirm, contextOf(req))
    },
  )
}

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type {
  ImportCodeMachineInput,
  ImportCodeMachineResult,
} from '../../../app/codemachine/import-codemachine.js'
import type { ChangeOrigin } from '../../../app/context.js'
import { toJobOut, toRunOut } from '../presenters.js'
import { contextOf } from '../request-context.js'
import { CodeMachineImport, CodeMachineImportOut } from '../schemas/codemachine.schema.js'
import { ERROR_RESPONSES } from '../schemas/common.schema.js'
import { ProjectParams } from '../schemas/project.schema.js'

export interface CodeMachineRouteDeps {
  readonly importCodeMachine: (
    projectId: number,
    input: ImportCodeMachineInput,
    ctx: ChangeOrigin,
  ) => Promise<ImportCodeMachineResult>
}

export const codeMachineRoutes: FastifyPluginAsyncTypebox<CodeMachineRouteDeps> = async (server, deps) => {
  server.post(
    '/projects/:project_id/codemachine/import',
    {
      schema: {
        tags: ['codemachine'],
        summary: 'Import a CodeMachine workspace as a protocol run (inline, or as a job with enqueue)',
        params: ProjectParams,
        body: CodeMachineImport,
        response: { 200: CodeMachineImportOut, ...ERROR_RESPONSES },
      },
    },
    async (req) => {
      const b = req.body
      const input = {
        protocolName: b.protocol_name,
        workspacePath: b.workspace_path,
        baseBranch: b.base_branch,
        description: b.description ?? null,
        enqueue: b.enqueue,
      }
      const result = await deps.importCodeMachine(req.params.project_id, input, contextOf(req))
      return {
        protocol_run: toRunOut(result.run),
        job: result.job === null ? null : toJobOut(result.job),
        message: result.message,
      }
    },
  )
}

import { Type } from '@sinclair/typebox'
import { JobOut, Nullable } from './common.schema.js'
import { ProtocolRunOut } from './protocol.schema.js'

export const CodeMachineImport = Type.Object({
  protocol_name: Type.String({ minLength: 1, maxLength: 100 }),
  workspace_path: Type.String({ minLength: 1, maxLength: 2000, description: 'Absolute path on the server' }),
  base_branch: Type.String({ minLength: 1, maxLength: 200, default: 'main' }),
  description: Type.Optional(Nullable(Type.String({ maxLength: 20_000 }))),
  enqueue: Type.Boolean({ default: false }),
})

export const CodeMachineImportOut = Type.Object({
  protocol_run: ProtocolRunOut,
  job: Nullable(JobOut),
  message: Type.String(),
})

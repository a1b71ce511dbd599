import type { Command } from 'commander'
import type { ActionReply, RunOut } from '../api-types.js'
import { contextOf, emit, example, parseId, parseJsonObject } from '../context.js'

interface CreateOptions {
  project: number
  name: string
  baseBranch: string
  description?: string
  templateConfig?: Record<string, unknown>
  start?: boolean
}

interface ImportOptions {
  project: number
  name: string
  workspacePath: string
  baseBranch: string
  description?: string
  enqueue?: boolean
}

/** `protocols create|create-and-start|import-codemachine`, and the original's `codemachine import`. */
export const registerProtocolCreate = (program: Command, protocols: Command): void => {
  for (const [name, start] of [
    ['create', false],
    ['create-and-start', true],
  ] as const) {
    const command = protocols
      .command(name)
      .description(start ? 'Create a protocol run and start planning it' : 'Create a protocol run (pending)')
      .requiredOption('--project <id>', 'project id', parseId)
      .requiredOption('--name <name>', 'protocol name, e.g. 0007-add-login')
      .option('--base-branch <branch>', 'base branch', 'main')
      .option('--description <text>', 'what the task is')
      .option('--template-config <json>', 'template_config (with protocol_spec) as JSON', parseJsonObject)
      .addHelpText(
        'after',
        example(
          `tasksgodzilla protocols ${name} --project 3 --name 0007-add-login --description "Add a login page"`,
        ),
      )
    if (!start) command.option('--start', 'also start planning')
    command.action(async (options: CreateOptions, cmd: Command) => createProtocol(cmd, options, start))
  }

  registerImport(protocols, 'import-codemachine')
  const codemachine = program
    .command('codemachine')
    .description('CodeMachine workspaces (the original command; same as protocols import-codemachine)')
    .addHelpText(
      'after',
      example('tasksgodzilla codemachine import --project 3 --name 0008-cm --workspace-path /srv/cm'),
    )
  registerImport(codemachine, 'import')
}

const createProtocol = async (command: Command, options: CreateOptions, forceStart: boolean) => {
  const ctx = contextOf(command)
  const run = await ctx.client.post<RunOut>(`/projects/${options.project}/protocols`, {
    protocol_name: options.name,
    base_branch: options.baseBranch,
    description: options.description,
    template_config: options.templateConfig,
  })
  if (!(forceStart || options.start)) {
    emit(ctx, run, () => `Created protocol ${run.id} (${run.protocol_name}), status ${run.status}.\n`)
    return
  }
  const start = await ctx.client.post<ActionReply>(`/protocols/${run.id}/actions/start`)
  const job = start.job ? ` (job ${start.job.job_id})` : ''
  emit(
    ctx,
    { protocol: run, start },
    () => `Created protocol ${run.id} (${run.protocol_name}); ${start.message}${job}.\n`,
  )
}

const registerImport = (parent: Command, name: string): void => {
  parent
    .command(name)
    .description('Import a CodeMachine workspace as a protocol run')
    .requiredOption('--project <id>', 'project id', parseId)
    .requiredOption('--name <name>', 'protocol name')
    .requiredOption('--workspace-path <path>', 'workspace path on the server')
    .option('--base-branch <branch>', 'base branch', 'main')
    .option('--description <text>', 'description')
    .option('--enqueue', 'import in a background job instead of inline')
    .addHelpText(
      'after',
      example(`tasksgodzilla ${parent.name()} ${name} --project 3 --name 0008-cm --workspace-path /srv/cm`),
    )
    .action(async (options: ImportOptions, cmd: Command) => {
      const ctx = contextOf(cmd)
      const reply = await ctx.client.post<{ protocol_run: RunOut; message: string }>(
        `/projects/${options.project}/codemachine/import`,
        {
          protocol_name: options.name,
          workspace_path: options.workspacePath,
          base_branch: options.baseBranch,
          description: options.description,
          enqueue: options.enqueue === true,
        },
      )
      const run = reply.protocol_run
      emit(ctx, reply, () => `${reply.message} Protocol ${run.id} (${run.protocol_name}) is ${run.status}.\n`)
    })
}

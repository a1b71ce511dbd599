import type { Command } from 'commander'
import type { ActionReply, RunOut, SpecOut } from '../api-types.js'
import { argId, contextOf, emit, example, parseId } from '../context.js'
import { cell, formatTime, statusCell, type Style } from '../output/style.js'
import { renderFields, renderTable } from '../output/table.js'
import { runColumns } from '../output/views.js'
import { registerProtocolCreate } from './protocol-create.command.js'
import { registerProtocolWatch } from './protocol-watch.command.js'

/** Actions that enqueue a job and answer `{message, job}`: [command, API path, original alias]. */
const JOB_ACTIONS = [
  ['start', 'start', "Start a run: plan it, or run a CodeMachine run's first step", undefined],
  ['run-next', 'run_next_step', 'Enqueue the first pending, blocked or failed step', undefined],
  ['retry', 'retry_latest', 'Retry the latest failed or blocked step', 'retry-latest'],
  ['open-pr', 'open_pr', 'Enqueue opening the PR/MR for the run', undefined],
] as const

/** Actions that change the run's status and answer the run. */
const STATE_ACTIONS = [
  ['pause', 'Pause a run'],
  ['resume', 'Resume a paused run'],
  ['cancel', 'Cancel a run and its unfinished steps'],
] as const

export const registerProtocols = (program: Command): void => {
  const protocols = program
    .command('protocols')
    .alias('protocol')
    .description('Create, inspect and steer protocol runs')
    .addHelpText(
      'after',
      example('tasksgodzilla protocols list --project 3', 'tasksgodzilla protocols watch 12'),
    )

  protocols
    .command('list')
    .alias('ls')
    .description("List a project's protocol runs")
    .requiredOption('--project <id>', 'project id', parseId)
    .addHelpText('after', example('tasksgodzilla protocols list --project 3'))
    .action(async (options: { project: number }, command: Command) => {
      const ctx = contextOf(command)
      const runs = await ctx.client.get<RunOut[]>(`/projects/${options.project}/protocols`)
      emit(ctx, runs, () => renderTable(runColumns(ctx.style), runs, ctx.style, 'No protocol runs.'))
    })

  protocols
    .command('show <id>')
    .description('Show one protocol run')
    .addHelpText('after', example('tasksgodzilla protocols show 12'))
    .action(async (id: string, _options: unknown, command: Command) => {
      const ctx = contextOf(command)
      const run = await ctx.client.get<RunOut>(`/protocols/${argId(id)}`)
      emit(ctx, run, () => runDetail(run, ctx.style))
    })

  protocols
    .command('spec <id>')
    .description("Show a run's protocol spec and its validation")
    .addHelpText('after', example('tasksgodzilla protocols spec 12 --json'))
    .action(async (id: string, _options: unknown, command: Command) => {
      const ctx = contextOf(command)
      const spec = await ctx.client.get<SpecOut>(`/protocols/${argId(id)}/spec`)
      emit(ctx, spec, () => specDetail(spec, ctx.style))
    })

  registerRunActions(protocols)
  registerProtocolCreate(program, protocols)
  registerProtocolWatch(protocols)
}

/** `Planning job enqueued (job 1b2c…)`: the API's message plus the job id when there is one. */
export const actionLine = (reply: ActionReply): string =>
  `${reply.message}${reply.job ? ` (job ${reply.job.job_id})` : ''}\n`

export const runDetail = (run: RunOut, style: Style): string =>
  renderFields(
    [
      ['ID', String(run.id)],
      ['Name', run.protocol_name],
      ['Project', String(run.project_id)],
      ['Status', statusCell(style, run.status)],
      ['Base branch', run.base_branch],
      ['Branch', cell(run.branch_name)],
      ['Description', cell(run.description)],
      ['PR', cell(run.pr_url)],
      ['Tokens', cell(run.tokens_used)],
      ['Spec', `${cell(run.spec_hash)} (${cell(run.spec_validation_status)})`],
      ['Created', formatTime(run.created_at)],
      ['Updated', formatTime(run.updated_at)],
    ],
    style,
  )

const specDetail = (spec: SpecOut, style: Style): string =>
  renderFields(
    [
      ['Protocol', `${spec.protocol_run_id} (${spec.protocol_name})`],
      ['Spec hash', cell(spec.spec_hash)],
      ['Validation', cell(spec.validation_status)],
      ['Validated', formatTime(spec.validated_at)],
      ...(spec.validation_errors ?? []).map((e, i) => [i === 0 ? 'Errors' : '', e] as const),
    ],
    style,
  ) + (spec.spec === null ? 'No spec.\n' : `${JSON.stringify(spec.spec, null, 2)}\n`)

const registerRunActions = (protocols: Command): void => {
  for (const [name, path, description, alias] of JOB_ACTIONS) {
    const action = protocols.command(`${name} <id>`).description(description)
    if (alias) action.alias(alias)
    action
      .addHelpText('after', example(`tasksgodzilla protocols ${name} 12`))
      .action(async (id: string, _options: unknown, command: Command) => {
        const ctx = contextOf(command)
        const reply = await ctx.client.post<ActionReply>(`/protocols/${argId(id)}/actions/${path}`)
        emit(ctx, reply, () => actionLine(reply))
      })
  }

  for (const [name, description] of STATE_ACTIONS) {
    protocols
      .command(`${name} <id>`)
      .description(description)
      .addHelpText('after', example(`tasksgodzilla protocols ${name} 12`))
      .action(async (id: string, _options: unknown, command: Command) => {
        const ctx = contextOf(command)
        const run = await ctx.client.post<RunOut>(`/protocols/${argId(id)}/actions/${name}`)
        emit(
          ctx,
          run,
          () => `Protocol ${run.id} (${run.protocol_name}) is now ${statusCell(ctx.style, run.status)}.\n`,
        )
      })
  }
}

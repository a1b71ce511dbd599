import type { Command } from 'commander'
import type { ActionReply, StepOut } from '../api-types.js'
import { argId, contextOf, emit, example, parseId } from '../context.js'
import { cell, formatTime, statusCell, type Style } from '../output/style.js'
import { renderFields, renderTable } from '../output/table.js'
import { stepColumns } from '../output/views.js'
import { registerStepLogs } from './step-logs.command.js'

/** Step actions that enqueue a job: [command, API path, description, original alias]. */
const JOB_ACTIONS = [
  ['run', 'run', 'Enqueue a pending, blocked or failed step', undefined],
  ['qa', 'run_qa', 'Enqueue QA for a step', 'run-qa'],
] as const

export const registerSteps = (program: Command): void => {
  const steps = program
    .command('steps')
    .alias('step')
    .description('Inspect and steer the steps of a protocol run')
    .addHelpText(
      'after',
      example('tasksgodzilla steps list --protocol 12', 'tasksgodzilla steps logs 40 --follow'),
    )

  steps
    .command('list')
    .alias('ls')
    .description("List a run's steps in order")
    .requiredOption('--protocol <id>', 'protocol run id', parseId)
    .addHelpText('after', example('tasksgodzilla steps list --protocol 12'))
    .action(async (options: { protocol: number }, command: Command) => {
      const ctx = contextOf(command)
      const list = await ctx.client.get<StepOut[]>(`/protocols/${options.protocol}/steps`)
      emit(ctx, list, () => renderTable(stepColumns(ctx.style), list, ctx.style, 'No steps.'))
    })

  steps
    .command('show <id>')
    .description('Show one step')
    .addHelpText('after', example('tasksgodzilla steps show 40'))
    .action(async (id: string, _options: unknown, command: Command) => {
      const ctx = contextOf(command)
      const step = await ctx.client.get<StepOut>(`/steps/${argId(id)}`)
      emit(ctx, step, () => stepDetail(step, ctx.style))
    })

  registerStepActions(steps)
  registerStepLogs(steps)
}

const stepDetail = (s: StepOut, style: Style): string =>
  renderFields(
    [
      ['ID', String(s.id)],
      ['Protocol', String(s.protocol_run_id)],
      ['Index', String(s.step_index)],
      ['Name', s.step_name],
      ['Type', s.step_type],
      ['Status', statusCell(style, s.status)],
      ['Engine', cell(s.engine_id)],
      ['Model', cell(s.model)],
      ['Retries', String(s.retries)],
      ['Tokens', cell(s.tokens_used)],
      ['Summary', cell(s.summary)],
      ['Created', formatTime(s.created_at)],
      ['Updated', formatTime(s.updated_at)],
    ],
    style,
  )

const registerStepActions = (steps: Command): void => {
  for (const [name, path, description, alias] of JOB_ACTIONS) {
    const action = steps.command(`${name} <id>`).description(description)
    if (alias) action.alias(alias)
    action
      .addHelpText('after', example(`tasksgodzilla steps ${name} 40`))
      .action(async (id: string, _options: unknown, command: Command) => {
        const ctx = contextOf(command)
        const reply = await ctx.client.post<ActionReply>(`/steps/${argId(id)}/actions/${path}`)
        emit(ctx, reply, () => `${reply.message}${reply.job ? ` (job ${reply.job.job_id})` : ''}\n`)
      })
  }

  steps
    .command('approve <id>')
    .description('Mark a step completed by hand')
    .addHelpText('after', example('tasksgodzilla steps approve 40'))
    .action(async (id: string, _options: unknown, command: Command) => {
      const ctx = contextOf(command)
      const step = await ctx.client.post<StepOut>(`/steps/${argId(id)}/actions/approve`)
      emit(
        ctx,
        step,
        () => `Step ${step.id} (${step.step_name}) is now ${statusCell(ctx.style, step.status)}.\n`,
      )
    })
}

import type { Command } from 'commander'
import type { ActionReply, JobOut } from '../api-types.js'
import { contextOf, emit, example, parseId, parsePositive } from '../context.js'
import { statusCell } from '../output/style.js'
import { renderTable } from '../output/table.js'
import { jobColumns } from '../output/views.js'

type QueueStats = { backend: string } & Record<string, Record<string, number> | string>

export const registerQueues = (program: Command): void => {
  const queues = program
    .command('queues')
    .alias('queue')
    .description('Job queue statistics and recent jobs')
    .addHelpText('after', example('tasksgodzilla queues stats', 'tasksgodzilla queues jobs --status failed'))

  queues
    .command('stats')
    .description('Jobs per status in each queue')
    .addHelpText('after', example('tasksgodzilla queues stats'))
    .action(async (_options: unknown, command: Command) => {
      const ctx = contextOf(command)
      const stats = await ctx.client.get<QueueStats>('/queues')
      const rows = Object.entries(stats).flatMap(([queue, counts]) =>
        typeof counts === 'string' ? [] : [{ queue, counts }],
      )
      const statuses = [...new Set(rows.flatMap((r) => Object.keys(r.counts)))]
      const columns = [
        { header: 'Queue', value: (r: (typeof rows)[number]) => r.queue },
        ...statuses.map((status) => ({
          header: statusCell(ctx.style, status),
          value: (r: (typeof rows)[number]) => String(r.counts[status] ?? 0),
          right: true,
        })),
      ]
      emit(
        ctx,
        stats,
        () => `Backend: ${stats.backend}\n${renderTable(columns, rows, ctx.style, 'No queues.')}`,
      )
    })

  registerJobs(queues)
}

export const registerSpecs = (program: Command): void => {
  const specs = program
    .command('specs')
    .alias('spec')
    .description('Protocol spec audits')
    .addHelpText('after', example('tasksgodzilla specs audit --project 3 --backfill'))

  specs
    .command('audit')
    .alias('validate')
    .description('Enqueue a spec audit of every run (or one project / one run) on the server')
    .option('--project <id>', 'only this project', parseId)
    .option('--protocol <id>', 'only this protocol run', parseId)
    .option('--backfill', 'store a spec for runs that have none')
    .option('--backfill-missing', 'same as --backfill (original name)')
    .option('--interval <seconds>', 'audit interval override', parsePositive)
    .addHelpText('after', example('tasksgodzilla specs audit --project 3 --backfill'))
    .action(async (options: AuditOptions, command: Command) => {
      const ctx = contextOf(command)
      const reply = await ctx.client.post<ActionReply>('/specs/audit', {
        project_id: options.project,
        protocol_id: options.protocol,
        backfill: options.backfill === true || options.backfillMissing === true,
        interval_seconds: options.interval,
      })
      emit(ctx, reply, () => `${reply.message}${reply.job ? ` (job ${reply.job.job_id})` : ''}\n`)
    })
}

interface AuditOptions {
  project?: number
  protocol?: number
  backfill?: boolean
  backfillMissing?: boolean
  interval?: number
}

const registerJobs = (queues: Command): void => {
  queues
    .command('jobs')
    .description('Recent jobs, newest first')
    .option('--status <status>', 'queued, started, finished, failed or delayed')
    .option('--project <id>', 'only jobs of this project', parseId)
    .option('--limit <n>', 'how many', parsePositive, 50)
    .addHelpText('after', example('tasksgodzilla queues jobs --status failed'))
    .action(async (options: { status?: string; project?: number; limit: number }, command: Command) => {
      const ctx = contextOf(command)
      const jobs = await ctx.client.get<JobOut[]>('/queues/jobs', {
        status: options.status,
        project_id: options.project,
        limit: options.limit,
      })
      emit(ctx, jobs, () => renderTable(jobColumns(ctx.style), jobs, ctx.style, 'No jobs.'))
    })
}

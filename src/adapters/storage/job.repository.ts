import { sql, type Kysely } from 'kysely'
import type { JobRepository } from '../../app/ports.js'
import { DEFAULT_QUEUE, JOB_STAT_KEYS, type JobStatKey } from '../../domain/job.js'
import { nowIso } from './columns.js'
import { createJobAttemptMethods } from './job-attempt.repository.js'
import { queuedRow } from './job-inserts.js'
import { statusLiteral } from './job-status-terms.js'
import { toJob } from './job.table.js'
import type { Database } from './schema.js'

export const createJobRepository = (db: Kysely<Database>): JobRepository => ({
  ...createJobAttemptMethods(db),

  async add(job) {
    const row = await db.insertInto('jobs').values(queuedRow(job)).returningAll().executeTakeFirstOrThrow()
    return toJob(row)
  },

  async findById(id) {
    const row = await db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst()
    return row ? toJob(row) : undefined
  },

  async list(filter) {
    let query = db.selectFrom('jobs').selectAll()
    if (filter.status === 'delayed') {
      query = query.where('status', '=', statusLiteral('queued')).where('next_run_at', '>', nowIso())
    } else if (filter.status === 'queued') {
      query = query.where('status', '=', statusLiteral('queued')).where('next_run_at', '<=', nowIso())
    } else if (filter.status !== undefined) {
      query = query.where('status', '=', statusLiteral(filter.status))
    }
    if (filter.projectId !== undefined) query = query.where('project_id', '=', filter.projectId)
    if (filter.excludeProjectIds?.length) {
      // Jobs without a project (global audits) stay visible.
      const excluded = [...filter.excludeProjectIds]
      query = query.where((eb) => eb.or([eb('project_id', 'is', null), eb('project_id', 'not in', excluded)]))
    }
    const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute()
    return rows.map(toJob)
  },

  async counts(queue = DEFAULT_QUEUE) {
    const now = nowIso()
    const rows = await db
      .selectFrom('jobs')
      .select([
        sql<string>`case when status = 'queued' and next_run_at > ${now} then 'delayed' else status end`.as(
          'bucket',
        ),
        (eb) => eb.fn.countAll<number>().as('n'),
      ])
      .where('queue', '=', queue)
      .groupBy('bucket')
      .execute()
    const counts = Object.fromEntries(JOB_STAT_KEYS.map((key) => [key, 0])) as Record<JobStatKey, number>
    for (const row of rows) {
      if ((JOB_STAT_KEYS as readonly string[]).includes(row.bucket))
        counts[row.bucket as JobStatKey] = Number(row.n)
    }
    return counts
  },
})

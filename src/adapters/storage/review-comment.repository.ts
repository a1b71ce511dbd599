import type { Kysely } from 'kysely'
import type { ReviewCommentRepository } from '../../app/reviews/review-comments.port.js'
import type { CiProvider } from '../../domain/ci-notice.js'
import { nowIso, toIso } from './columns.js'
import type { Database } from './schema.js'

export const createReviewCommentRepository = (db: Kysely<Database>): ReviewCommentRepository => ({
  async add(protocolRunId, provider, comments) {
    if (comments.length === 0) return 0
    const receivedAt = nowIso()
    const result = await db
      .insertInto('review_comments')
      .values(
        comments.map((c) => ({
          protocol_run_id: protocolRunId,
          provider,
          comment_key: c.key,
          author: c.author,
          body: c.body,
          path: c.path,
          line: c.line,
          url: c.url,
          review_state: c.state,
          received_at: receivedAt,
        })),
      )
      .onConflict((oc) => oc.columns(['protocol_run_id', 'provider', 'comment_key']).doNothing())
      .executeTakeFirst()
    return Number(result.numInsertedOrUpdatedRows ?? 0)
  },

  async lockWindow(protocolRunId) {
    // An upsert that rewrites the row even when it exists: on Postgres the row stays locked
    // until commit, on SQLite the write takes the database's write lock.
    const row = await db
      .insertInto('review_windows')
      .values({ protocol_run_id: protocolRunId, job_id: null, windows: 0, rounds: 0 })
      .onConflict((oc) =>
        oc.column('protocol_run_id').doUpdateSet((eb) => ({ windows: eb.ref('review_windows.windows') })),
      )
      .returningAll()
      .executeTakeFirstOrThrow()
    return { jobId: row.job_id, windows: Number(row.windows), rounds: Number(row.rounds) }
  },

  async saveWindow(protocolRunId, window) {
    await db
      .updateTable('review_windows')
      .set({ job_id: window.jobId, windows: window.windows, rounds: window.rounds })
      .where('protocol_run_id', '=', protocolRunId)
      .execute()
  },

  async listPending(protocolRunId) {
    const rows = await db
      .selectFrom('review_comments')
      .selectAll()
      .where('protocol_run_id', '=', protocolRunId)
      .where('consumed_at', 'is', null)
      .orderBy('id', 'asc')
      .execute()
    return rows.map((row) => ({
      id: row.id,
      provider: row.provider as CiProvider,
      key: row.comment_key,
      author: row.author,
      body: row.body,
      path: row.path,
      line: row.line === null ? null : Number(row.line),
      url: row.url,
      state: row.review_state,
      receivedAt: toIso(row.received_at),
    }))
  },

  async consume(ids, stepRunId) {
    if (ids.length === 0) return
    await db
      .updateTable('review_comments')
      .set({ consumed_at: nowIso(), step_run_id: stepRunId })
      .where('id', 'in', [...ids])
      .execute()
  },
})

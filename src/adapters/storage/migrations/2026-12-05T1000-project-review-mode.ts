import type { Migration } from 'kysely'
import type { AnyDb } from './column-types.js'

/** `projects.review_mode`: what review comments do to the project's runs (null: the server default). */
export const projectReviewMode: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable('projects').addColumn('review_mode', 'text').execute()
  },
  async down(db: AnyDb) {
    await db.schema.alterTable('projects').dropColumn('review_mode').execute()
  },
}

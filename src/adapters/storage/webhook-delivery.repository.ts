import type { Kysely } from 'kysely'
import type { WebhookDeliveryRepository } from '../../app/ports.js'
import { nowIso } from './columns.js'
import type { Database } from './schema.js'

export const createWebhookDeliveryRepository = (db: Kysely<Database>): WebhookDeliveryRepository => ({
  async record(provider, deliveryId) {
    const result = await db
      .insertInto('webhook_deliveries')
      .values({ provider, delivery_id: deliveryId, received_at: nowIso() })
      .onConflict((oc) => oc.columns(['provider', 'delivery_id']).doNothing())
      .executeTakeFirst()
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0
  },
})

import { createHash } from 'node:crypto'
import { branchCandidates, repositoryKey, type CiNotice, type CiProvider } from '../../domain/ci-notice.js'
import type { Repositories } from '../ports.js'
import type { WebhookSecret } from './verify-webhook.js'

/** What an unauthenticated delivery claims to be about; read only to pick the secrets to try. */
export interface DeliveryClaims {
  readonly notice: CiNotice | undefined
  readonly protocolRunId: number | undefined
}

/**
 * The secrets worth trying for a delivery: the global one, plus those of the projects the payload
 * could be about — the `protocol_run_id`'s project, projects whose git URL is the payload's
 * repository, and projects with a run on its branch. Verifying against every project's secret
 * made each unauthenticated request cost one HMAC per project; a delivery naming nothing a
 * project has could not be applied to it anyway. `configured`: some secret exists somewhere, so
 * an empty candidate list means refused, never unsigned.
 */
export const candidateSecrets = async (
  repos: Pick<Repositories, 'projects' | 'runs'>,
  claims: DeliveryClaims,
  globalSecret: string | undefined,
): Promise<{ readonly secrets: WebhookSecret[]; readonly configured: boolean }> => {
  const global = globalSecret ? [{ projectId: null, secret: globalSecret }] : []
  const perProject = await repos.projects.listWebhookSecrets()
  if (perProject.length === 0) return { secrets: global, configured: global.length > 0 }
  const projectIds = await claimedProjects(repos, claims)
  const repositories = new Set(claims.notice?.repositoryUrls.map(repositoryKey) ?? [])
  repositories.delete(null)
  const candidates = perProject.filter(
    (entry) => projectIds.has(entry.projectId) || repositories.has(repositoryKey(entry.gitUrl)),
  )
  const secrets = [...global, ...candidates.map(({ projectId, secret }) => ({ projectId, secret }))]
  return { secrets, configured: true }
}

const claimedProjects = async (
  repos: Pick<Repositories, 'runs'>,
  claims: DeliveryClaims,
): Promise<Set<number>> => {
  const ids = new Set<number>()
  if (claims.protocolRunId !== undefined) {
    const run = await repos.runs.findById(claims.protocolRunId)
    if (run) ids.add(run.projectId)
  }
  for (const branch of branchCandidates(claims.notice?.branch ?? null))
    for (const run of await repos.runs.findByBranch(branch)) ids.add(run.projectId)
  return ids
}

/**
 * A delivery key from the signed bytes themselves: a replay with a fresh (unsigned) delivery-id
 * header, or none, still carries the same body and is recognised.
 */
export const bodyDeliveryId = (provider: CiProvider, raw: Buffer): string =>
  `sha256:${createHash('sha256').update(provider).update('\0').update(raw).digest('hex')}`

/** Records the delivery id (when sent) and the body's hash; false when either was seen before. */
export const isFirstDelivery = async (
  tx: Pick<Repositories, 'deliveries'>,
  delivery: {
    readonly provider: CiProvider
    readonly deliveryId: string | undefined
    readonly rawBody: Buffer
  },
): Promise<boolean> => {
  const byHeader =
    delivery.deliveryId === undefined || (await tx.deliveries.record(delivery.provider, delivery.deliveryId))
  const byBody = await tx.deliveries.record(
    delivery.provider,
    bodyDeliveryId(delivery.provider, delivery.rawBody),
  )
  return byHeader && byBody
}

import { createHmac } from 'node:crypto'
import { AppError } from '../../domain/app-error.js'
import type { CiProvider } from '../../domain/ci-notice.js'
import { secretsMatch } from '../secrets.js'

/** A secret a delivery may be signed with: the global one (no project) or a project's own. */
export interface WebhookSecret {
  readonly projectId: number | null
  readonly secret: string
}

export interface WebhookCredentials {
  /** `X-Hub-Signature-256` (GitHub) or `X-Gitlab-Signature-256` (GitLab, optional). */
  readonly signature: string | undefined
  /** `X-Gitlab-Token` (or `X-TasksGodzilla-Webhook-Token`). */
  readonly token: string | undefined
}

/** Which secret authenticated the delivery; `projectId` null for the global one or an unsigned delivery. */
export interface WebhookIdentity {
  readonly projectId: number | null
}

/**
 * Authenticates a delivery over its raw bytes, before anything parses them. GitHub: HMAC-SHA256
 * (`sha256=` optional, lowercase hex). GitLab: the shared token, plus the HMAC when one is sent.
 * With no secret configured anywhere, only `allowUnsigned` lets a delivery in.
 */
export const verifyWebhook = (
  provider: CiProvider,
  raw: Buffer,
  credentials: WebhookCredentials,
  secrets: readonly WebhookSecret[],
  allowUnsigned: boolean,
): WebhookIdentity => {
  if (secrets.length === 0) {
    if (allowUnsigned) return { projectId: null }
    throw new AppError(
      'ORC_WEBHOOK_UNAUTHORIZED',
      'Webhook secret not configured; unsigned webhooks are refused',
    )
  }
  const match = secrets.find((candidate) =>
    provider === 'github'
      ? signatureMatches(raw, credentials.signature, candidate.secret)
      : credentials.token !== undefined && secretsMatch(credentials.token, candidate.secret),
  )
  if (!match) {
    throw new AppError(
      'ORC_WEBHOOK_UNAUTHORIZED',
      provider === 'github' ? 'Invalid webhook signature' : 'Invalid webhook token',
    )
  }
  if (
    provider === 'gitlab' &&
    credentials.signature !== undefined &&
    !signatureMatches(raw, credentials.signature, match.secret)
  ) {
    throw new AppError('ORC_WEBHOOK_UNAUTHORIZED', 'Invalid webhook signature')
  }
  return { projectId: match.projectId }
}

const signatureMatches = (raw: Buffer, header: string | undefined, secret: string): boolean => {
  if (header === undefined) return false
  const given = header.startsWith('sha256=') ? header.slice(7) : header
  if (!/^[0-9a-f]{64}$/.test(given)) return false
  const expected = createHmac('sha256', secret).update(raw).digest('hex')
  return secretsMatch(given, expected)
}

import type { NotificationSender, NotifyUrlPolicy } from '../../app/notifications/notification.port.js'
import { refuseResolvedUrl, refuseUrl, type OutboundUrlRules } from '../net/private-address.js'

export interface HttpSenderOptions extends OutboundUrlRules {
  /** A receiver that has not answered after this long counts as a failed attempt. */
  readonly timeoutMs: number
}

/**
 * POSTs notifications with fetch. Redirects are not followed (a receiver could bounce us to an
 * internal address), the host is re-checked against the private-address rules right before each
 * attempt, and errors are returned as text that names the host only.
 */
export const createHttpNotificationSender = (options: HttpSenderOptions): NotificationSender => ({
  async send(url, body, headers, signal) {
    const refused = await refuseResolvedUrl(url, options)
    if (refused !== undefined) return { error: `receiver URL ${refused}` }
    const host = new URL(url).host
    try {
      const response = await fetch(url, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', ...headers },
        redirect: 'manual',
        signal: AbortSignal.any([signal, AbortSignal.timeout(options.timeoutMs)]),
      })
      await response.body?.cancel()
      if (response.status >= 200 && response.status < 300) return { statusCode: response.status }
      return { statusCode: response.status, error: `${host} answered HTTP ${response.status}` }
    } catch (error) {
      return { error: `${host} unreachable: ${describe(error)}` }
    }
  },
})

/** The same rules for URLs as they are configured (no DNS lookup). */
export const createNotifyUrlPolicy = (rules: OutboundUrlRules): NotifyUrlPolicy => ({
  refuse: (url) => refuseUrl(url, rules),
})

const describe = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error)
  const cause = (error as Error & { cause?: unknown }).cause
  const code =
    cause instanceof Error && 'code' in cause ? String((cause as { code: unknown }).code) : undefined
  if (error.name === 'TimeoutError') return 'timed out'
  return code ?? error.message
}

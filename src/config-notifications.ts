import { fail, readBool, readChoice, readInt, readString, type Env } from './config-readers.js'

export const NOTIFY_FORMATS = ['json', 'slack'] as const

/** Outgoing notifications: the global default receiver and how deliveries are attempted. */
export interface NotificationsConfig {
  /** `TASKSGODZILLA_NOTIFY_URL`: receives every project's notifications (besides project receivers). */
  readonly url: string | undefined
  /** `TASKSGODZILLA_NOTIFY_SECRET`: signs what goes to that URL. Secret: never logged or returned. */
  readonly secret: string | undefined
  readonly format: (typeof NOTIFY_FORMATS)[number]
  readonly maxAttempts: number
  readonly timeoutMs: number
  /** `TASKSGODZILLA_ALLOW_PRIVATE_NOTIFY_HOSTS`: lets receivers on loopback and private networks. */
  readonly allowPrivateHosts: boolean
  /** `TASKSGODZILLA_PUBLIC_URL`: this server's public root, for `console_url` links. */
  readonly publicUrl: string | undefined
}

/** `TASKSGODZILLA_NOTIFY_*`, `TASKSGODZILLA_ALLOW_PRIVATE_NOTIFY_HOSTS` and `TASKSGODZILLA_PUBLIC_URL`. */
export const readNotifications = (env: Env): NotificationsConfig => ({
  url: readHttpUrl(env, 'TASKSGODZILLA_NOTIFY_URL'),
  secret: readString(env, 'TASKSGODZILLA_NOTIFY_SECRET'),
  format: readChoice(env, 'TASKSGODZILLA_NOTIFY_FORMAT', NOTIFY_FORMATS, 'json'),
  maxAttempts: readInt(env, 'TASKSGODZILLA_NOTIFY_MAX_ATTEMPTS', { min: 1, max: 100 }, 5),
  timeoutMs: readInt(env, 'TASKSGODZILLA_NOTIFY_TIMEOUT_SECONDS', { min: 1, max: 300 }, 10) * 1000,
  allowPrivateHosts: readBool(env, 'TASKSGODZILLA_ALLOW_PRIVATE_NOTIFY_HOSTS', false),
  publicUrl: readHttpUrl(env, 'TASKSGODZILLA_PUBLIC_URL'),
})

const readHttpUrl = (env: Env, name: string): string | undefined => {
  const value = readString(env, name)
  if (value === undefined) return undefined
  let parsed: URL | undefined
  try {
    parsed = new URL(value)
  } catch {
    parsed = undefined
  }
  if (
    !parsed ||
    (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') ||
    parsed.username ||
    parsed.password
  )
    fail(
      name,
      parsed ? `${parsed.protocol}//${parsed.host}` : '(not a URL)',
      'an http(s) URL without credentials',
    )
  return value
}

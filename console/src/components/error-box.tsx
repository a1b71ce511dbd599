import { ApiError, NetworkError, messageOf } from '../api/api-error.js'
import { href } from '../router.js'

/** An API failure shown where it happened, with its `detail` and what to do about it. */
export const ErrorBox = ({ error, onRetry }: { error: unknown; onRetry?: () => void }) => {
  if (error === undefined || error === null) return null
  const status = error instanceof ApiError ? error.status : undefined
  const projectToken = error instanceof ApiError && /^ORC_PROJECT_(TOKEN|ACCESS)/.test(error.code ?? '')
  const hint = projectToken
    ? 'This project needs its own token (X-Project-Token).'
    : status === 401
      ? 'The API wants a token, or this one is wrong.'
      : error instanceof NetworkError
        ? 'Is the server running?'
        : undefined
  return (
    <div class="error-box" role="alert">
      <strong>{status !== undefined ? `Error ${status}` : 'Error'}</strong>{' '}
      <span class="error-detail">{error instanceof ApiError ? error.message : messageOf(error)}</span>
      {hint && (
        <span class="error-hint">
          {hint} {status === 401 && !projectToken && <a href={href({ name: 'settings' })}>Open settings</a>}
        </span>
      )}
      {onRetry && (
        <button type="button" class="link-button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  )
}

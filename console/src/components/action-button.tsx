import { useState } from 'preact/hooks'
import { messageOf } from '../api/api-error.js'
import type { Allowed } from '../logic/allowed-actions.js'
import { ConfirmDialog } from './confirm-dialog.js'

export interface ActionButtonProps {
  readonly label: string
  readonly allowed: Allowed
  readonly run: () => Promise<unknown>
  /** Asks first when set: the question shown in the dialog. */
  readonly confirm?: string
  readonly danger?: boolean
  readonly primary?: boolean
  readonly small?: boolean
  readonly onDone?: (result: unknown) => void
  readonly onError?: (message: string, error: unknown) => void
}

/**
 * A button for a server action. When the action is not allowed it stays focusable (so keyboard
 * users can read why) and says why in its tooltip and accessible description.
 */
export const ActionButton = (props: ActionButtonProps) => {
  const [busy, setBusy] = useState(false)
  const [asking, setAsking] = useState(false)
  const { allowed } = props
  const [reasonId] = useState(() => `why-${Math.random().toString(36).slice(2, 9)}`)
  const go = async () => {
    setAsking(false)
    setBusy(true)
    try {
      props.onDone?.(await props.run())
    } catch (error) {
      props.onError?.(messageOf(error), error)
    } finally {
      setBusy(false)
    }
  }
  const classes = [
    'action',
    props.danger ? 'danger' : '',
    props.primary ? 'primary' : '',
    props.small ? 'small' : '',
  ]
  return (
    <span class="action-wrap">
      <button
        type="button"
        class={classes.filter(Boolean).join(' ')}
        aria-disabled={!allowed.allowed || busy}
        aria-describedby={allowed.allowed ? undefined : reasonId}
        title={allowed.reason}
        data-action={props.label}
        onClick={() => {
          if (!allowed.allowed || busy) return
          if (props.confirm) setAsking(true)
          else void go()
        }}
      >
        {busy ? '…' : props.label}
      </button>
      {!allowed.allowed && (
        <span id={reasonId} role="tooltip" class="why">
          {allowed.reason}
        </span>
      )}
      {asking && (
        <ConfirmDialog
          title={`${props.label}?`}
          confirmLabel={props.label}
          danger={props.danger}
          onConfirm={() => void go()}
          onCancel={() => setAsking(false)}
        >
          {props.confirm}
        </ConfirmDialog>
      )}
    </span>
  )
}

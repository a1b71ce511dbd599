import { useState } from 'preact/hooks'
import { ActionButton } from '../components/action-button.js'
import { ErrorBox } from '../components/error-box.js'
import { useConsole } from '../context.js'
import { useResource } from '../hooks.js'

/** Remote branches of the project's repository, each deletable after a confirmation. */
export const BranchesPanel = ({ projectId, baseBranch }: { projectId: number; baseBranch?: string }) => {
  const { endpoints, notify } = useConsole()
  const [asked, setAsked] = useState(false)
  const branches = useResource(
    async () => (asked ? endpoints.branches(projectId) : undefined),
    [projectId, asked],
  )
  const [actionError, setActionError] = useState<unknown>(undefined)
  if (!asked)
    return (
      <p>
        <button type="button" onClick={() => setAsked(true)}>
          List remote branches
        </button>{' '}
        <span class="muted small">Asks git on the server for the remote's branches.</span>
      </p>
    )
  const list = branches.data?.branches ?? []
  return (
    <>
      <ErrorBox error={branches.error} onRetry={branches.reload} />
      <ErrorBox error={actionError} />
      {branches.loading && !branches.data && <p class="muted">Listing…</p>}
      {branches.data && list.length === 0 && <p class="muted">The remote has no branch.</p>}
      {list.length > 0 && (
        <ul class="branches">
          {list.map((branch) => (
            <li key={branch}>
              <span class="mono">{branch}</span>
              <ActionButton
                label="Delete"
                small
                danger
                allowed={
                  branch === baseBranch
                    ? { allowed: false, reason: 'The base branch cannot be deleted here' }
                    : { allowed: true }
                }
                confirm={`Delete the remote branch “${branch}”? Commits only on this branch are lost.`}
                run={() => endpoints.deleteBranch(projectId, branch)}
                onDone={() => {
                  setActionError(undefined)
                  notify('ok', `Deleted ${branch}.`)
                  branches.set((prior) => prior && { branches: prior.branches.filter((b) => b !== branch) })
                }}
                onError={(_message, error) => setActionError(error)}
              />
            </li>
          ))}
        </ul>
      )}
      {branches.data && (
        <button type="button" class="link-button" onClick={branches.reload}>
          Refresh
        </button>
      )}
    </>
  )
}

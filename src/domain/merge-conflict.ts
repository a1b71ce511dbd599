import type { JsonObject, JsonValue } from './json.js'
import type { PromptSection } from './retry-feedback.js'
import type { StepRun } from './step-run.js'

/** `runtime_state.merge_conflict`: why the step was re-opened after its base branch moved. */
export const mergeConflictState = (
  baseBranch: string,
  baseSha: string,
  files: readonly string[],
  headSha: string | null,
): JsonObject => ({ base_branch: baseBranch, base_sha: baseSha, files: [...files], head_sha: headSha })

/**
 * The conflict as a prompt section, while the step still stands on the commit that conflicted:
 * the agent merges the base in (no rebase, so the pushed branch needs no forced push) and
 * resolves the files listed.
 */
export const mergeConflictSections = (step: Pick<StepRun, 'headSha' | 'runtimeState'>): PromptSection[] => {
  const conflict = objectOf(step.runtimeState?.merge_conflict)
  if (!conflict || typeof conflict.base_branch !== 'string') return []
  const sha = typeof conflict.head_sha === 'string' ? conflict.head_sha : null
  if (sha !== null && step.headSha !== null && sha !== step.headSha) return []
  const files = Array.isArray(conflict.files) ? conflict.files.filter((f) => typeof f === 'string') : []
  const base = conflict.base_branch
  const body = [
    `The base branch \`${base}\` moved and this branch no longer merges cleanly.`,
    `In the worktree, run \`git merge origin/${base}\`, resolve every conflict keeping the intent of`,
    'both sides, make sure the project still builds and its tests pass, and commit the merge.',
    'Do not rebase and do not push with force.',
    '',
    'Conflicting files:',
    ...files.map((file) => `- ${String(file)}`),
  ]
  return [['Merge conflict with the base branch', body.join('\n')]]
}

const objectOf = (value: JsonValue | undefined): JsonObject | undefined =>
  value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value)
    ? value
    : undefined

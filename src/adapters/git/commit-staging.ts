import { lstatSync } from 'node:fs'
import { join } from 'node:path'
import type { LeftOutFile } from '../../app/git.port.js'
import { deniedCommitReason } from '../../domain/commit-deny-list.js'
import type { WorktreeTools } from './worktree.manager.js'

/** Default of `TASKSGODZILLA_MAX_COMMIT_FILE_BYTES`: larger files are left out of commits. */
export const DEFAULT_COMMIT_MAX_FILE_BYTES = 5 * 1024 * 1024

/** Paths per `git add` call, well under any argv limit. */
const ADD_BATCH = 200

export interface StagedChanges {
  readonly leftOut: LeftOutFile[]
  /** Status listed a change: without one there is nothing to commit. */
  readonly changed: boolean
  /**
   * A change was staged that cannot cancel out (a file new to the index, or changed where the
   * index matched HEAD): the commit has content without asking git again.
   */
  readonly surelyStaged: boolean
}

/**
 * Stages what changed in `dir` (`.gitignore` respected, deletions included) except files the deny
 * list names or larger than `maxFileBytes`; those are unstaged too if something staged them
 * before. Returns what was left out (names and reasons only, never content) and whether status
 * listed any change at all: with none there is nothing to commit, and no need to ask git again.
 */
export const stageChanges = async (
  dir: string,
  git: WorktreeTools['git'],
  maxFileBytes: number,
): Promise<StagedChanges> => {
  const status = await git(['status', '--porcelain=v1', '-z', '--untracked-files=all', '--no-renames'], dir)
  const entries = status.split('\0').filter((entry) => entry.length > 3)
  const leftOut: LeftOutFile[] = []
  const stage: string[] = []
  const unstage: string[] = []
  let surelyStaged = false
  for (const entry of entries) {
    const path = entry.slice(3)
    const reason = deniedCommitReason(path) ?? tooLarge(join(dir, path), maxFileBytes)
    if (reason === undefined) {
      stage.push(path)
      // Index column blank or untracked: the index matched HEAD there, so adding the change differs from HEAD.
      if (entry[0] === ' ' || entry[0] === '?') surelyStaged = true
      continue
    }
    leftOut.push({ path, reason })
    if (entry[0] !== ' ' && entry[0] !== '?') unstage.push(path)
  }
  for (const batch of batches(unstage)) await git(['--literal-pathspecs', 'reset', '-q', '--', ...batch], dir)
  for (const batch of batches(stage)) await git(['--literal-pathspecs', 'add', '--all', '--', ...batch], dir)
  return { leftOut, changed: entries.length > 0, surelyStaged }
}

const tooLarge = (path: string, maxFileBytes: number): string | undefined => {
  try {
    const stats = lstatSync(path)
    return stats.isFile() && stats.size > maxFileBytes ? `larger than ${maxFileBytes} bytes` : undefined
  } catch {
    return undefined
  }
}

const batches = (paths: readonly string[]): string[][] => {
  const out: string[][] = []
  for (let i = 0; i < paths.length; i += ADD_BATCH) out.push(paths.slice(i, i + ADD_BATCH))
  return out
}

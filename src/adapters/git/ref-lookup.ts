import { lstatSync } from 'node:fs'
import { join } from 'node:path'
import { commonDirFromFiles, gitDirFromFiles } from './git-dir-files.js'

/** What `git rev-parse --verify` would make of a name: a commit, another object, nothing. */
export type RefAnswer = 'commit' | 'other' | 'absent'

/** The answer for a name, or undefined where only rev-parse itself can tell. */
export type RefLookup = (name: string) => RefAnswer | undefined

/**
 * Resolves several names the way `rev-parse` does (its rules in order: the name itself under
 * `refs/`, then `refs/`, `refs/tags/`, `refs/heads/`, `refs/remotes/`, `refs/remotes/<name>/HEAD`)
 * from one `for-each-ref` listing every candidate ref, instead of one rev-parse per name: worktree
 * creation asked up to three. Where rev-parse could find something refs do not show (a file such
 * as `FETCH_HEAD` in the git directory, an object name, a tag of a tag), or the listing fails,
 * the answer is undefined and the caller asks rev-parse.
 */
export const lookupRefs = async (
  repo: string,
  names: readonly string[],
  tools: { readonly output: (args: readonly string[], cwd: string) => Promise<string | undefined> },
): Promise<RefLookup> => {
  const patterns = [...new Set(names.flatMap(revParseRules))]
  const listing = await tools.output(
    ['for-each-ref', '--format=%(refname)%09%(objecttype)%09%(*objecttype)', ...patterns],
    repo,
  )
  if (listing === undefined) return () => undefined
  const found = new Map<string, RefAnswer | undefined>()
  for (const line of listing.split('\n')) {
    const [ref, type, peeled] = line.split('\t')
    if (ref !== undefined && type !== undefined) found.set(ref, answerFor(type, peeled ?? ''))
  }
  const dirs = [gitDirFromFiles(repo), commonDirFromFiles(repo)]
  return (name) => {
    // A full object name wins over refs, an abbreviated one resolves when no ref does.
    if (/^[0-9a-fA-F]{4,}$/.test(name) || dirs.some((dir) => dir === undefined)) return undefined
    if (!name.startsWith('refs/') && dirs.some((dir) => exists(join(dir!, name)))) return undefined
    for (const rule of revParseRules(name)) if (found.has(rule)) return found.get(rule)
    return 'absent'
  }
}

/** The refs rev-parse tries for a name, in its order (a name outside `refs/` is first a file). */
const revParseRules = (name: string): string[] => [
  ...(name.startsWith('refs/') ? [name] : []),
  `refs/${name}`,
  `refs/tags/${name}`,
  `refs/heads/${name}`,
  `refs/remotes/${name}`,
  `refs/remotes/${name}/HEAD`,
]

/** A tag is peeled once by `%(*objecttype)`; a tag of a tag is left to rev-parse. */
const answerFor = (type: string, peeled: string): RefAnswer | undefined => {
  if (type === 'commit') return 'commit'
  if (type !== 'tag') return 'other'
  if (peeled === 'tag') return undefined
  return peeled === 'commit' ? 'commit' : 'other'
}

const exists = (path: string): boolean => {
  try {
    lstatSync(path)
    return true
  } catch {
    return false
  }
}

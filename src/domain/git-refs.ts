import { AppError } from './app-error.js'
import { protocolNameProblem } from './protocol-name.js'

/**
 * Validators for names users (and LLMs) hand us that end up in git argv or file paths. They run
 * before git is ever called, so the API can answer 422 instead of git seeing the input.
 */

const MAX_BRANCH_LENGTH = 200

export interface ProtocolNameParts {
  /** The four digits, as text (`0007`). */
  readonly number: string
  /** Everything after the first dash. */
  readonly shortName: string
}

/**
 * The name's number and short name, or ORC_PROTOCOL_NAME_INVALID quoting it. The rule is the
 * API's (`protocol-name.ts`), so a name the API accepted is one git accepts too.
 */
export const parseProtocolName = (name: string): ProtocolNameParts => {
  const problem = protocolNameProblem(name) ?? branchNameProblem(name)
  if (problem !== undefined && problem !== null)
    throw new AppError(
      'ORC_PROTOCOL_NAME_INVALID',
      problem.startsWith('Protocol name')
        ? problem
        : `Protocol name ${JSON.stringify(name)} is invalid: ${problem}`,
    )
  const dash = name.indexOf('-')
  return { number: name.slice(0, dash), shortName: name.slice(dash + 1) }
}

export const isProtocolName = (name: string): boolean => {
  try {
    parseProtocolName(name)
    return true
  } catch {
    return false
  }
}

/** `NNNN-<slug>` where the slug is derived from free text (lowercase, dashes, ≤ 40 chars). */
export const formatProtocolName = (number: number, shortName: string): string => {
  const slug = shortName
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/g, '')
  return `${String(number).padStart(4, '0')}-${slug || 'task'}`
}

/** One more than the highest `NNNN` among `names` (protocol folders, worktrees, branches). */
export const nextProtocolNumber = (names: Iterable<string>): number => {
  let highest = 0
  for (const name of names) {
    const match = /^(\d{4})-/.exec(name)
    if (match?.[1]) highest = Math.max(highest, Number(match[1]))
  }
  return highest + 1
}

// Git's check-ref-format rules, plus ours: ASCII only, no leading `-`, bounded length.
const BRANCH_FORBIDDEN = /[~^:?*[\\]|\.\.|@\{|\/\/|\/\.|^\.|\/$|\.lock$|\.lock\/|\.$/

/** The reason `name` cannot be a branch we pass to git, or null when it can. */
export const branchNameProblem = (name: string): string | null => {
  if (name === '') return 'it is empty'
  if (name.length > MAX_BRANCH_LENGTH) return `it is longer than ${MAX_BRANCH_LENGTH} characters`
  if (name.startsWith('-')) return 'it starts with "-"'
  if (name === '@' || name === 'HEAD') return 'it is reserved'
  if (/[^\x21-\x7e]/.test(name)) return 'it contains spaces, control or non-ASCII characters'
  if (BRANCH_FORBIDDEN.test(name) || name.startsWith('/')) return 'it breaks git ref naming rules'
  if (name.split('/').some((part) => part.startsWith('.') || part === ''))
    return 'it breaks git ref naming rules'
  return null
}

/** Throws ORC_BRANCH_NAME_INVALID quoting the name when it cannot be a branch. */
export const assertBranchName = (name: string, what = 'Branch name'): void => {
  const problem = branchNameProblem(name)
  if (problem)
    throw new AppError('ORC_BRANCH_NAME_INVALID', `${what} ${JSON.stringify(name)} is invalid: ${problem}`)
}

/**
 * A relative path that must stay inside its root: no absolute path, no `..` segment, no leading
 * `-`, no control characters or backslashes. Returns the reason, or null when it is acceptable.
 */
export const relativePathProblem = (path: string): string | null => {
  if (path === '') return 'it is empty'
  if (path.startsWith('/') || path.startsWith('~')) return 'it is absolute'
  if (hasControlCharacters(path) || path.includes('\\'))
    return 'it contains control characters or backslashes'
  const parts = path.split('/')
  if (parts.some((part) => part === '..')) return 'it climbs out of its folder with ".."'
  if (parts.some((part) => part.startsWith('-'))) return 'a segment starts with "-"'
  return null
}

/** Throws ORC_PATH_OUTSIDE_ROOT quoting the path when it could escape its root. */
export const assertRelativePath = (path: string, what = 'Path'): void => {
  const problem = relativePathProblem(path)
  if (problem)
    throw new AppError('ORC_PATH_OUTSIDE_ROOT', `${what} ${JSON.stringify(path)} is refused: ${problem}`)
}

/** Step files written by planning: `NN-name.md`, a single file name of safe characters. */
export const STEP_FILE_PATTERN = /^\d{2}-[A-Za-z0-9][A-Za-z0-9._-]*\.md$/

export const stepFileNameProblem = (name: string): string | null =>
  name.length <= 120 && STEP_FILE_PATTERN.test(name) && !name.includes('..')
    ? null
    : 'expected NN-name.md (two digits, a dash, letters, digits, ".", "_" or "-", ending in .md)'

/** True when `text` holds a C0 control character or DEL (and, when asked, a space). */
export const hasControlCharacters = (text: string, spaceToo = false): boolean => {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x20 || code === 0x7f || (spaceToo && code === 0x20)) return true
  }
  return false
}

/**
 * Protocol names double as git branch names, worktree folders and `.protocols/<name>` folders,
 * so they must be `NNNN-short-name` and a safe git ref: no `..`, no leading `-` or `.`,
 * no `.lock` suffix, no characters git or a filesystem would choke on.
 */
const PROTOCOL_NAME = /^\d{4}-[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/

export const protocolNameProblem = (name: string): string | undefined => {
  if (!PROTOCOL_NAME.test(name)) {
    return `Protocol name ${JSON.stringify(name)} must look like NNNN-short-name (digits, a dash, then letters, digits, '.', '_' or '-')`
  }
  if (name.includes('..') || name.endsWith('.') || name.endsWith('.lock')) {
    return `Protocol name ${JSON.stringify(name)} is not a valid git branch name`
  }
  return undefined
}

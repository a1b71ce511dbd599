/**
 * Files a step commit never stages, whoever created them (the agent, a hook, a tool it ran): they
 * are how credentials usually reach a repository. Matched on the file's own name, anywhere in the
 * tree; the caller adds the size cap. Deliberately a deny-list, so ordinary work is committed as
 * before; it is a seat belt, not a sandbox (see docs/security.md).
 */
const DENIED_NAMES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^\.env(\..*)?$|^\.envrc$/, 'environment file'],
  [/\.(pem|key|p12|pfx|ppk|jks|keystore)$/i, 'key or certificate file'],
  [/^id_(rsa|dsa|ecdsa|ed25519)(_sk)?$/, 'SSH private key'],
  [/^(\.netrc|\.pgpass|\.git-credentials|\.pypirc)$/, 'credentials file'],
]

/** Why `path` (repository-relative, `/`-separated) must stay out of a commit, or undefined. */
export const deniedCommitReason = (path: string): string | undefined => {
  const name = path.slice(path.lastIndexOf('/') + 1)
  return DENIED_NAMES.find(([pattern]) => pattern.test(name))?.[1]
}

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

/** SHA-256 hex of a token: what the database keeps instead of the token itself. */
export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex')

/** Compares two secrets in constant time (by their hashes, so lengths never leak either). */
export const secretsMatch = (given: string, expected: string): boolean => secretMatcher(expected)(given)

/** `secretsMatch` against one fixed secret, hashed once rather than on every comparison. */
export const secretMatcher = (expected: string): ((given: string) => boolean) => {
  const expectedDigest = createHash('sha256').update(expected).digest()
  return (given) => timingSafeEqual(createHash('sha256').update(given).digest(), expectedDigest)
}

/** Compares a presented token with a stored SHA-256 hex in constant time. */
export const tokenMatchesHash = (given: string, storedHash: string): boolean =>
  presentedToken(given).matches(storedHash)

/**
 * A presented token hashed once, to compare with many stored hashes (an unfiltered listing checks
 * it against every token-protected project), each comparison in constant time.
 */
export const presentedToken = (given: string): { matches(storedHash: string): boolean } => {
  const actual = createHash('sha256').update(given, 'utf8').digest()
  return {
    matches: (storedHash) => {
      const expected = Buffer.from(storedHash, 'hex')
      return expected.length === actual.length && timingSafeEqual(actual, expected)
    },
  }
}

/** A new random token for a project (shown once, then only its hash is kept). */
export const generateToken = (): string => `tgzp_${randomBytes(24).toString('base64url')}`

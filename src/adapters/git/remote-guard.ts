import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { AppError } from '../../domain/app-error.js'
import { parseGitUrl, redactGitUrl } from '../../domain/git-url.js'
import { isPrivateAddress as isInternalAddress } from '../net/private-address.js'

/**
 * True for an address a clone must not reach on its own say-so (loopback, private, link-local,
 * shared, reserved; IPv4-mapped IPv6 included), and for anything that is not an address at all.
 * The ranges are the outbound-URL guard's, shared with notification receivers.
 */
export const isPrivateAddress = (address: string): boolean =>
  isIP(address) === 0 || isInternalAddress(address)

export type Resolve = (host: string) => Promise<readonly string[]>

const resolveAll: Resolve = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address)

/**
 * Refuses a remote git URL whose host is, or resolves to, any private address, before git opens
 * a connection (server-side request forgery: a project URL aimed at Redis on 127.0.0.1, or at a
 * cloud metadata service). Returns the `-c http.curloptResolve=…` arguments that pin git's HTTPS
 * connection to the addresses checked, so a second DNS answer cannot swap in a private one.
 * Local paths and `file://` URLs are governed by TASKSGODZILLA_ALLOW_LOCAL_REPOS, not here.
 */
export const guardRemoteHost = async (
  url: string,
  allowLocalRepos: boolean,
  resolve: Resolve = resolveAll,
): Promise<string[]> => {
  const source = parseGitUrl(url, { allowLocalRepos })
  if (source.kind === 'local') return []
  const host = source.host.replace(/^\[(.*)\]$/, '$1')
  let addresses: readonly string[]
  try {
    addresses = isIP(host) !== 0 ? [host] : await resolve(host)
  } catch {
    throw new AppError('ORC_GIT_FAILED', `The git host ${JSON.stringify(host)} could not be resolved`)
  }
  const refused = addresses.find(isPrivateAddress)
  if (refused !== undefined || addresses.length === 0)
    throw new AppError(
      'ORC_GIT_HOST_REFUSED',
      `Git URL ${JSON.stringify(redactGitUrl(url))} is refused: its host ${JSON.stringify(host)} is a private, loopback or link-local address (${refused ?? 'none'}); set TASKSGODZILLA_ALLOW_PRIVATE_GIT_HOSTS=true to allow such hosts`,
    )
  return pinArgs(url, host, addresses)
}

const pinArgs = (url: string, host: string, addresses: readonly string[]): string[] => {
  if (!/^https:\/\//i.test(url.trim()) || isIP(host) !== 0) return []
  const port = new URL(url.trim()).port || '443'
  const list = addresses.map((address) => (isIP(address) === 6 ? `[${address}]` : address)).join(',')
  return ['-c', `http.curloptResolve=${host}:${port}:${list}`]
}

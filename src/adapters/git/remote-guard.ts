import { lookup } from 'node:dns/promises'
import { BlockList, isIP } from 'node:net'
import { AppError } from '../../domain/app-error.js'
import { parseGitUrl, redactGitUrl } from '../../domain/git-url.js'

/** Addresses a clone must not reach on its own say-so: loopback, private, link-local, shared, reserved. */
const PRIVATE = new BlockList()
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const)
  PRIVATE.addSubnet(network, prefix, 'ipv4')
for (const [network, prefix] of [
  ['::', 127],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(network, prefix, 'ipv6')

/** True for an address in a loopback, private, link-local or reserved range (IPv4-mapped IPv6 included). */
export const isPrivateAddress = (address: string): boolean => {
  const family = isIP(address)
  if (family === 0) return true
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6')
}

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

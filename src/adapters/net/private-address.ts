import { lookup } from 'node:dns/promises'
import { BlockList, isIP } from 'node:net'

/**
 * Server-side request forgery guard for URLs users give us to call (notification receivers; the
 * same rules suit any outgoing request to a user-chosen host): http(s) only, no credentials in
 * the URL, and no private, loopback, link-local or otherwise internal address unless allowed.
 */
export interface OutboundUrlRules {
  /** Lets private and loopback hosts through (a receiver on the same machine or LAN). */
  readonly allowPrivate: boolean
}

const INTERNAL = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  INTERNAL.addSubnet(net, prefix, 'ipv4')
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const)
  INTERNAL.addSubnet(net, prefix, 'ipv6')

const MAPPED_V4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i

/** True for loopback, private, link-local, CGNAT, multicast, reserved and unspecified addresses. */
export const isPrivateAddress = (address: string): boolean => {
  const bare = address.replace(/^\[|\]$/g, '')
  const mapped = MAPPED_V4.exec(bare)?.[1]
  if (mapped !== undefined) return INTERNAL.check(mapped, 'ipv4')
  const family = isIP(bare)
  if (family === 4) return INTERNAL.check(bare, 'ipv4')
  if (family === 6) return INTERNAL.check(bare, 'ipv6')
  return false
}

const LOCAL_NAMES = /(^|\.)(localhost|localdomain|local|internal)$/i

/**
 * Why `url` is refused as written (no DNS lookup), or undefined. The reason never repeats the
 * URL's credentials.
 */
export const refuseUrl = (url: string, rules: OutboundUrlRules): string | undefined => {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return 'is not an absolute URL'
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'must use http or https'
  if (parsed.username !== '' || parsed.password !== '') return 'must not carry credentials'
  if (rules.allowPrivate) return undefined
  const host = parsed.hostname.replace(/\.$/, '')
  if (LOCAL_NAMES.test(host)) return `points to a local host (${host})`
  if (isPrivateAddress(host)) return `points to a private or loopback address (${host})`
  return undefined
}

/**
 * As refuseUrl, then resolves the host and refuses it when any of its addresses is internal
 * (a public name pointing inside). Call right before connecting.
 */
export const refuseResolvedUrl = async (
  url: string,
  rules: OutboundUrlRules,
): Promise<string | undefined> => {
  const refused = refuseUrl(url, rules)
  if (refused !== undefined || rules.allowPrivate) return refused
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '')
  if (isIP(host) !== 0) return undefined
  try {
    const addresses = await lookup(host, { all: true })
    const internal = addresses.find((entry) => isPrivateAddress(entry.address))
    return internal ? `resolves to a private or loopback address (${internal.address})` : undefined
  } catch {
    return `host ${host} could not be resolved`
  }
}

/** A URL fit for logs and responses: credentials, query and fragment removed. */
export const redactedUrl = (url: string): string => {
  try {
    const parsed = new URL(url)
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`
  } catch {
    return '(invalid URL)'
  }
}

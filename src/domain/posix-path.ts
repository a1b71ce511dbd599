/**
 * POSIX path arithmetic without I/O (the domain may not import node:path). Workers run on
 * POSIX systems; these helpers never touch the file system and never follow symlinks.
 */

/** Collapses `.`, `..` and repeated slashes. Keeps a leading `/`; `..` never climbs above `/`. */
export const normalizePath = (path: string): string => {
  const absolute = path.startsWith('/')
  const parts: string[] = []
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop()
      else if (!absolute) parts.push('..')
      continue
    }
    parts.push(part)
  }
  const body = parts.join('/')
  return absolute ? `/${body}` : body || '.'
}

/** Joins segments; an absolute segment restarts the path, as node:path's resolve would. */
export const joinPath = (...segments: readonly string[]): string => {
  let joined = ''
  for (const segment of segments) {
    if (segment === '') continue
    joined = segment.startsWith('/') || joined === '' ? segment : `${joined}/${segment}`
  }
  return normalizePath(joined || '.')
}

export const dirName = (path: string): string => {
  const normalized = normalizePath(path)
  const index = normalized.lastIndexOf('/')
  if (index < 0) return '.'
  return index === 0 ? '/' : normalized.slice(0, index)
}

export const baseName = (path: string): string => {
  const normalized = normalizePath(path)
  return normalized.slice(normalized.lastIndexOf('/') + 1)
}

/** True when `path` is `root` itself or lies below it (both taken as normalized absolute paths). */
export const isInside = (root: string, path: string): boolean => {
  const base = normalizePath(root)
  const target = normalizePath(path)
  if (base === '/') return target.startsWith('/')
  return target === base || target.startsWith(`${base}/`)
}

import { isInside, normalizePath } from './posix-path.js'

/**
 * Folders the operating system owns: nothing below them is a project's checkout, and a
 * `local_path` there would let runs read and write the system as the server user.
 */
const SYSTEM_TREES = [
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/proc',
  '/run',
  '/sbin',
  '/sys',
  '/usr',
  '/var/lib/dpkg',
  '/var/log',
  '/var/run',
  '/var/spool',
  '/System',
  '/Library',
  '/private/etc',
  '/private/var/db',
] as const

/** Folders that hold many people's or programs' data: a checkout may lie below, never be them. */
const SHARED_ROOTS = [
  '/',
  '/home',
  '/root',
  '/Users',
  '/var',
  '/tmp',
  '/opt',
  '/srv',
  '/mnt',
  '/media',
  '/private',
] as const

/**
 * Why `path` (absolute) may not be a project's `local_path`, or undefined when it may: a system
 * tree or anything below it, a shared root itself, or `home` (the server user's home) itself.
 */
export const systemPathProblem = (path: string, home: string): string | undefined => {
  const normalized = normalizePath(path)
  const tree = SYSTEM_TREES.find((root) => isInside(root, normalized))
  if (tree !== undefined) return `it lies in the system folder ${tree}`
  if ((SHARED_ROOTS as readonly string[]).includes(normalized) || normalized === normalizePath(home))
    return 'it is a root folder shared by the whole system, not one repository'
  return undefined
}

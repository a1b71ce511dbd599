import { existsSync, lstatSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { inflateSync } from 'node:zlib'
import { commonDirFromFiles, headShaFromFiles, readBoundedFile } from './git-dir-files.js'

/** A commit object is a few kB; a larger loose object is left to git. */
const MAX_OBJECT_BYTES = 256 * 1024

/**
 * The subject of HEAD's commit as `git log -1 --pretty=format:%s` prints it, read from the commit's
 * loose object (a commit writes it loose, and QA asks right after the step's commit): leading
 * blank lines skipped, then the lines up to the first blank one, each stripped of trailing
 * whitespace, joined by spaces. Undefined, for git to answer, wherever git could print something
 * else or the object is not simply there: HEAD not a loose ref, the object packed or elsewhere,
 * replace refs in the repository, a commit declaring an `encoding`, a NUL in the message.
 */
export const headSubjectFromFiles = (dir: string): string | undefined => {
  const sha = headShaFromFiles(dir)
  const common = commonDirFromFiles(dir)
  if (sha === undefined || common === undefined || mayReplace(common)) return undefined
  const object = readLoose(join(common, 'objects', sha.slice(0, 2), sha.slice(2)))
  const header = object === undefined ? -1 : object.indexOf('\0')
  if (object === undefined || !object.startsWith('commit ') || header < 0) return undefined
  const commit = object.slice(header + 1)
  const split = commit.indexOf('\n\n')
  const headers = split < 0 ? commit : commit.slice(0, split)
  const message = split < 0 ? '' : commit.slice(split + 2)
  if (/^encoding /m.test(headers) || message.includes('\0')) return undefined
  return subjectOf(message)
}

/** git's `%s`: the first paragraph, each line's trailing whitespace dropped, joined by spaces. */
const subjectOf = (message: string): string => {
  const lines = message.split('\n').map((line) => line.replace(/[ \t\r]+$/, ''))
  let first = 0
  while (first < lines.length && lines[first] === '') first++
  const subject: string[] = []
  for (let i = first; i < lines.length && lines[i] !== ''; i++) subject.push(lines[i]!)
  return subject.join(' ')
}

/** Replace refs change what `git log` shows for an object; any sign of them leaves it to git. */
const mayReplace = (common: string): boolean => {
  if (existsSync(join(common, 'refs', 'replace'))) return true
  const packed = join(common, 'packed-refs')
  try {
    if (lstatSync(packed).size > MAX_OBJECT_BYTES) return true
    return readFileSync(packed, 'utf8').includes(' refs/replace/')
  } catch {
    return false
  }
}

const readLoose = (path: string): string | undefined => {
  const compressed = readBoundedFile(path, MAX_OBJECT_BYTES)
  if (compressed === undefined) return undefined
  try {
    // Bounded inflated too: a small hostile object may expand a thousandfold; past the bound it throws.
    return inflateSync(compressed, { maxOutputLength: MAX_OBJECT_BYTES }).toString('utf8')
  } catch {
    return undefined
  }
}

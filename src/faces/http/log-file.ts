import { closeSync, createReadStream, openSync, readSync, statSync, type ReadStream } from 'node:fs'

/** Bytes read at once when scanning back for `tail` or catching up a follow. */
const CHUNK_BYTES = 64 * 1024

/** The size of the log now; 0 when it is not there (yet). */
export const logSize = (path: string): number => {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}

/**
 * The byte offset where the last `lines` lines of the first `size` bytes begin, scanning back a
 * chunk at a time (memory stays one chunk however long the log). A final line without its
 * newline counts as a line.
 */
export const tailOffset = (path: string, size: number, lines: number): number => {
  if (size === 0) return 0
  const fd = openSync(path, 'r')
  try {
    const buffer = Buffer.alloc(CHUNK_BYTES)
    let position = size
    let newlines = 0
    let skipLast = true
    while (position > 0) {
      const start = Math.max(0, position - CHUNK_BYTES)
      const length = position - start
      readSync(fd, buffer, 0, length, start)
      for (let i = length - 1; i >= 0; i--) {
        if (buffer[i] !== 0x0a) {
          skipLast = false
          continue
        }
        // The newline that ends the file closes the last line; it does not start another one.
        if (skipLast && start + i === size - 1) continue
        if (++newlines === lines) return start + i + 1
      }
      position = start
    }
    return 0
  } finally {
    closeSync(fd)
  }
}

/** Bytes `[start, end)` of the log as a stream (nothing to read when start ≥ end). */
export const logStream = (path: string, start: number, end: number): ReadStream =>
  createReadStream(path, { start, end: Math.max(start, end) - 1, highWaterMark: CHUNK_BYTES })

/** At most one chunk of the log's bytes from `offset` (empty at the end or when missing). */
export const readChunk = (path: string, offset: number): Buffer => {
  const size = logSize(path)
  if (size <= offset) return Buffer.alloc(0)
  const buffer = Buffer.alloc(Math.min(CHUNK_BYTES, size - offset))
  const fd = openSync(path, 'r')
  try {
    return buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, offset))
  } finally {
    closeSync(fd)
  }
}

/** One dispatched Server-Sent Event (WHATWG HTML §9.2 event stream format). */
export interface SseMessage {
  readonly event: string
  readonly data: string
  /** The last event id in force when this message was dispatched (may be ''). */
  readonly lastEventId: string
}

/**
 * An incremental parser for `text/event-stream`: feed it decoded text as it arrives and it returns
 * the messages completed so far. Handles CRLF/LF/CR line ends split across chunks, comments,
 * `retry:` and the rule that an `id` containing NUL is ignored.
 */
export class SseParser {
  private buffer = ''
  private pendingCr = false
  private data: string[] = []
  private event = ''
  private sawData = false
  lastEventId = ''
  retryMs: number | undefined

  feed(chunk: string): SseMessage[] {
    const out: SseMessage[] = []
    let text = chunk
    // A CR at the end of the previous chunk already ended its line; a LF right after it is the same line end.
    if (this.pendingCr && text.startsWith('\n')) text = text.slice(1)
    this.pendingCr = false
    this.buffer += text
    let start = 0
    for (let i = 0; i < this.buffer.length; i++) {
      const ch = this.buffer[i]
      if (ch !== '\n' && ch !== '\r') continue
      this.line(this.buffer.slice(start, i), out)
      if (ch === '\r') {
        if (i + 1 === this.buffer.length) this.pendingCr = true
        else if (this.buffer[i + 1] === '\n') i++
      }
      start = i + 1
    }
    this.buffer = this.buffer.slice(start)
    return out
  }

  private line(line: string, out: SseMessage[]): void {
    if (line === '') return this.dispatch(out)
    if (line.startsWith(':')) return
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'data') {
      this.data.push(value)
      this.sawData = true
    } else if (field === 'event') this.event = value
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value)
  }

  private dispatch(out: SseMessage[]): void {
    if (this.sawData) {
      out.push({ event: this.event || 'message', data: this.data.join('\n'), lastEventId: this.lastEventId })
    }
    this.data = []
    this.event = ''
    this.sawData = false
  }
}

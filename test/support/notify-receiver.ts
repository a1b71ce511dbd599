import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReceivedNotification {
  readonly headers: IncomingHttpHeaders
  readonly body: Record<string, unknown>
  /** The signature header matched HMAC-SHA256 of the raw body with the receiver's secret. */
  readonly signatureValid: boolean
}

export interface NotifyReceiver {
  readonly url: string
  readonly received: ReceivedNotification[]
  close(): Promise<void>
}

/** A real HTTP receiver on 127.0.0.1 that checks `X-TasksGodzilla-Signature` with node:crypto. */
export const startNotifyReceiver = async (secret: string | undefined): Promise<NotifyReceiver> => {
  const received: ReceivedNotification[] = []
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const raw = Buffer.concat(chunks)
      received.push({
        headers: request.headers,
        body: JSON.parse(raw.toString('utf8')) as Record<string, unknown>,
        signatureValid: verify(raw, request.headers['x-tasksgodzilla-signature'], secret),
      })
      response.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

const verify = (raw: Buffer, header: string | string[] | undefined, secret: string | undefined): boolean => {
  if (secret === undefined || typeof header !== 'string' || !header.startsWith('sha256=')) return false
  const expected = createHmac('sha256', secret).update(raw).digest()
  const given = Buffer.from(header.slice('sha256='.length), 'hex')
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/** A URL on 127.0.0.1 where nothing listens (a port taken and released at once). */
export const deadReceiverUrl = async (): Promise<string> => {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}/down`
}

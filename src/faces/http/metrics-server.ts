import { createServer, type Server } from 'node:http'
import type { Registry } from 'prom-client'

export interface MetricsServer {
  readonly address: string
  close(): Promise<void>
}

/**
 * A worker's own `/metrics` endpoint (Prometheus text format), so job metrics of worker
 * processes are scraped where they happen. Nothing else is served.
 */
export const listenMetrics = async (
  registry: Registry,
  host: string,
  port: number,
): Promise<MetricsServer> => {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"Not Found"}')
      return
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, resolve)
  })
  const bound = server.address()
  const actualPort = typeof bound === 'object' && bound !== null ? bound.port : port
  return {
    address: `http://${host}:${actualPort}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

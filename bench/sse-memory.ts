// tsx bench/sse-memory.ts — RSS of `serve` (SQLite, 1M events) before and after N open SSE streams,
// then one stream past TASKSGODZILLA_MAX_STREAMS, which must be refused.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import { cleanUp, createDatabase, envFor } from './load.js'
import { BENCH_API_TOKEN, BENCH_PROJECT_TOKEN } from './seed.js'

const STREAMS = (process.env.BENCH_STREAMS ?? '1000,5000,10000').split(',').map(Number)
/** The server's cap: the last count of STREAMS, so the next stream meets it. */
const CAP = STREAMS.at(-1)!
const PORT = Number(process.env.BENCH_PORT ?? 18400)
/** A batch of new streams that takes longer has stalled: the run stops and says how many were open. */
const BATCH_TIMEOUT_MS = 30_000

const rssMb = (pid: number): number =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024

const headers = { authorization: `Bearer ${BENCH_API_TOKEN}`, 'x-project-token': BENCH_PROJECT_TOKEN }
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity })

/** Opens one stream and resolves once its headers arrived; the response is kept open. */
const openStream = (): Promise<http.ClientRequest> =>
  new Promise((resolve, reject) => {
    const request = http.get(
      { host: '127.0.0.1', port: PORT, path: '/events/stream', headers, agent },
      (res) => {
        if (res.statusCode !== 200) reject(new Error(`stream answered ${res.statusCode}`))
        res.on('data', () => undefined)
        resolve(request)
      },
    )
    request.on('error', reject)
  })

const settle = () => new Promise((resolve) => setTimeout(resolve, 3000))

const target = await createDatabase('sqlite', { projects: 1000, runsPerProject: 10, events: 1_000_000 })
const server = spawn(
  process.execPath,
  ['--import', 'tsx', 'src/faces/cli/main.ts', 'serve', '--port', String(PORT)],
  {
    cwd: new URL('..', import.meta.url).pathname,
    env: {
      PATH: process.env.PATH ?? '',
      ...envFor(target),
      TASKSGODZILLA_LOG_LEVEL: 'warn',
      TASKSGODZILLA_API_TOKEN: BENCH_API_TOKEN,
      TASKSGODZILLA_MAX_STREAMS_PER_TOKEN: '100000',
      TASKSGODZILLA_MAX_STREAMS: String(CAP),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  },
)
server.once('exit', (code) => {
  // A port taken by another process, a crash: the figures would be someone else's.
  console.error(`serve exited (${code}) during the bench`)
  process.exit(1)
})
const open: http.ClientRequest[] = []
try {
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`http://127.0.0.1:${PORT}/health`).then(
      (r) => r.ok,
      () => false,
    )
    if (up) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  // Warm: the listings a console makes, so the baseline includes the read caches' working set.
  for (const path of ['/events?limit=50', '/protocols/5000/events?limit=100', '/projects/500/protocols'])
    for (let i = 0; i < 200; i++) await fetch(`http://127.0.0.1:${PORT}${path}`, { headers })
  await settle()
  const base = rssMb(server.pid!)
  console.log(`serve RSS with 1M events, no streams: ${base.toFixed(0)} MB`)
  for (const total of STREAMS) {
    while (open.length < total) {
      const batch = Math.min(200, total - open.length)
      const opened = Promise.all(Array.from({ length: batch }, openStream))
      const stalled = new Promise<undefined>((resolve) => setTimeout(resolve, BATCH_TIMEOUT_MS))
      const streams = await Promise.race([opened, stalled])
      if (streams === undefined)
        throw new Error(
          `a batch of ${batch} streams did not open within ${BATCH_TIMEOUT_MS} ms (${open.length} open)`,
        )
      open.push(...streams)
    }
    await settle()
    const rss = rssMb(server.pid!)
    console.log(
      `  ${total} streams: RSS ${rss.toFixed(0)} MB, ${(((rss - base) * 1024) / total).toFixed(1)} kB per stream`,
    )
  }
  const refusal = await new Promise<string>((resolve) => {
    http
      .get({ host: '127.0.0.1', port: PORT, path: '/events/stream', headers, agent }, (res) => {
        let body = ''
        res.on('data', (chunk: Buffer) => (body += chunk.toString()))
        res.on('end', () => resolve(`${res.statusCode} ${body}`))
      })
      .on('error', (error) => resolve(`error ${error.message}`))
  })
  console.log(`  stream ${CAP + 1} (cap ${CAP}): ${refusal}`)
} finally {
  server.removeAllListeners('exit')
  for (const request of open) request.destroy()
  server.kill('SIGTERM')
  await cleanUp()
}

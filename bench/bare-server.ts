// The baseline: a bare Fastify route doing no work, started as its own process like the API.
import Fastify from 'fastify'

const server = Fastify({ logger: false })
server.get('/bare', async () => ({ status: 'ok' }))
const address = await server.listen({ host: '127.0.0.1', port: Number(process.argv[2] ?? 0) })
process.stdout.write(`${address}\n`)

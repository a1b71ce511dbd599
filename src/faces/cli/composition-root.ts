/**
 * The composition root, loaded only when a command starts in-process parts (serve, worker, migrate,
 * demo). It brings in Fastify, both database drivers, BullMQ and every adapter: over a second of
 * start-up that the commands talking to a server over HTTP never need.
 */
export const compositionRoot = () => import('../../composition/index.js')

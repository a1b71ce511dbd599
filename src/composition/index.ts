/**
 * The composition root: the only place that wires adapters to the app and the faces. Every
 * process builds one runtime (one database handle, one unit of work, one commit bus, one set of
 * outward adapters) and starts one of these entry points on it.
 */
export { startServer, startQueue, SHUTDOWN_GRACE_MS } from './serve.js'
export type { ListenOptions, QueueWiring, RunningServer } from './serve.js'
export { startWorker } from './worker.js'
export type { RunningWorker, WorkerOptions } from './worker.js'
export { runMigrations } from './migrate.js'
export { startDemo } from './demo/demo.js'
export type { DemoOptions, RunningDemo } from './demo/demo.js'
export { createStorageCore, databaseProbe, openRuntime } from './runtime.js'
export type { Runtime, StorageCore } from './runtime.js'
export { createHttpServer } from './http.js'
export { createProtocolJobDeps, productionHandlers } from './job-handlers.js'
export { createQueueRuntime, createWorkerRuntime, jobRuntimePolicy } from './queue.js'
export type { QueueParts, QueueRuntime, QueueTuning, QueueWiringOptions, WorkerRuntime } from './queue.js'

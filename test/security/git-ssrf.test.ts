import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGitClient } from '../../src/adapters/git/git.client.js'
import { guardRemoteHost, isPrivateAddress } from '../../src/adapters/git/remote-guard.js'
import { createUnitOfWork } from '../../src/adapters/storage/unit-of-work.js'
import type { DatabaseHandle } from '../../src/adapters/storage/database.js'
import { classifyJobError } from '../../src/app/queue-runtime/job-errors.js'
import { createProjectSetupHandler } from '../../src/app/protocol/setup/project-setup.job.js'
import { DIALECTS, openMigratedDatabase, unavailable } from '../support/databases.js'
import { removeDir, tempDir } from '../support/git-repos.js'
import { seedProjectSetup } from '../support/fixtures.js'
import { jobRun, makeJobDeps } from '../support/protocol-jobs.js'

// Issue 15 #8: a project's git URL made the server connect to loopback/private hosts
// (`https://127.0.0.1:6379/x.git` hung on Redis for 600 s, three times).
const signal = new AbortController().signal
let listener: Server
let port: number
let connections = 0
let root: string

beforeAll(async () => {
  root = tempDir('tgz-ssrf-')
  listener = createServer((socket) => {
    connections++
    socket.destroy()
  })
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
  const address = listener.address()
  port = typeof address === 'object' && address ? address.port : 0
})
afterAll(async () => {
  await new Promise((resolve) => listener.close(resolve))
  removeDir(root)
})

describe('clones refuse private hosts', () => {
  it('refuses a loopback URL without opening a connection, as a non-retryable error', async () => {
    const client = createGitClient({ projectsRoot: join(root, 'P1'), allowLocalRepos: true })
    const before = connections
    const clone = client.ensureRepo(
      { gitUrl: `https://127.0.0.1:${port}/x.git`, localPath: null },
      { clone: true },
      signal,
    )
    const error = await clone.catch((caught: unknown) => caught)
    expect(error).toMatchObject({ code: 'ORC_GIT_HOST_REFUSED' })
    expect((error as Error).message).toContain('TASKSGODZILLA_ALLOW_PRIVATE_GIT_HOSTS')
    expect(classifyJobError(error).retryable).toBe(false)
    expect(connections).toBe(before)
  })

  it('resolves host names and refuses one that points at loopback', async () => {
    const client = createGitClient({ projectsRoot: join(root, 'P2'), allowLocalRepos: false })
    const before = connections
    await expect(
      client.ensureRepo(
        { gitUrl: `https://localhost:${port}/x.git`, localPath: null },
        { clone: true },
        signal,
      ),
    ).rejects.toMatchObject({ code: 'ORC_GIT_HOST_REFUSED' })
    await expect(
      guardRemoteHost('git@internal.example:acme/x.git', false, async () => ['203.0.113.9', '10.1.2.3']),
    ).rejects.toMatchObject({
      code: 'ORC_GIT_HOST_REFUSED',
    })
    expect(connections).toBe(before)
  })

  it('classifies every private, loopback, link-local and mapped range', () => {
    for (const address of [
      '127.0.0.1',
      '10.0.0.5',
      '172.16.3.4',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fc00::1',
      'fd12::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::ffff:a9fe:a9fe',
    ])
      expect(isPrivateAddress(address), address).toBe(true)
    for (const address of ['140.82.112.3', '172.32.0.1', '100.128.0.1', '2606:50c0:8000::153'])
      expect(isPrivateAddress(address), address).toBe(false)
  })

  it('connects when TASKSGODZILLA_ALLOW_PRIVATE_GIT_HOSTS allows it (the check is what kept it out)', async () => {
    const client = createGitClient({
      projectsRoot: join(root, 'P3'),
      allowLocalRepos: true,
      allowPrivateHosts: true,
      cloneTimeoutMs: 20_000,
    })
    const before = connections
    await expect(
      client.ensureRepo(
        { gitUrl: `https://127.0.0.1:${port}/x.git`, localPath: null },
        { clone: true },
        signal,
      ),
    ).rejects.toMatchObject({ code: 'ORC_GIT_FAILED' })
    expect(connections).toBeGreaterThan(before)
  })
})

for (const dialect of DIALECTS) {
  describe.skipIf(unavailable(dialect))(`project setup with a private git URL (${dialect})`, () => {
    let db: { handle: DatabaseHandle; close(): Promise<void> }
    beforeAll(async () => {
      db = await openMigratedDatabase(dialect)
    })
    afterAll(async () => db?.close())

    it('fails the setup job for good with a message naming the refusal, and never connects', async () => {
      const { project, run } = await createUnitOfWork(db.handle.db).run((tx) =>
        seedProjectSetup(tx, {
          name: `ssrf-${Math.random().toString(16).slice(2)}`,
          gitUrl: `https://127.0.0.1:${port}/x.git`,
        }),
      )
      const handler = createProjectSetupHandler(makeJobDeps(db.handle, join(root, dialect)))
      const before = connections
      const failure = await handler(
        { project_id: project.id, protocol_run_id: run.id, job_id: 's' },
        jobRun(),
      ).catch((caught: unknown) => caught)
      expect(classifyJobError(failure)).toMatchObject({ category: 'validation', retryable: false })
      expect(classifyJobError(failure).message).toContain(`"https://127.0.0.1:${port}/x.git" is refused`)
      expect(connections).toBe(before)
    })
  })
}

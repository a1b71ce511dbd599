import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGitClient } from '../../src/adapters/git/git.client.js'
import { removeDir, tempDir } from '../support/git-repos.js'

// A `git` first on PATH that records every call: injection attempts must never reach it.
let root: string
let callLog: string
let savedPath: string | undefined
const signal = new AbortController().signal

beforeAll(() => {
  root = tempDir('tgz-inject-')
  const bin = join(root, 'bin')
  mkdirSync(bin)
  callLog = join(root, 'git-calls.log')
  writeFileSync(join(bin, 'git'), `#!/bin/sh\necho "$@" >> '${callLog}'\nexit 1\n`)
  chmodSync(join(bin, 'git'), 0o755)
  savedPath = process.env.PATH
  process.env.PATH = `${bin}:${savedPath ?? ''}`
})
afterAll(() => {
  process.env.PATH = savedPath
  removeDir(root)
})

const gitClient = () => createGitClient({ projectsRoot: join(root, 'Projects'), allowLocalRepos: true })
const repoPath = () => join(root, 'repo')

describe('user-derived names and URLs never reach git', () => {
  const badProtocols = [
    '../escape',
    '-oProxyCommand=touch /tmp/pwned',
    '0001-a b',
    '0001-ünï',
    '0001-a..b',
    '--help',
  ]
  for (const protocolName of badProtocols)
    it(`refuses protocol name ${JSON.stringify(protocolName)}`, async () => {
      await expect(
        gitClient().ensureWorktree({ repoPath: repoPath(), protocolName, baseBranch: 'main' }, signal),
      ).rejects.toMatchObject({ code: 'ORC_PROTOCOL_NAME_INVALID' })
      expect(existsSync(callLog)).toBe(false)
    })

  const badBranches = ['--upload-pack=touch /tmp/x', '-oProxyCommand=x', 'main..x', 'a b', 'ünï', '../main']
  for (const baseBranch of badBranches)
    it(`refuses base branch ${JSON.stringify(baseBranch)}`, async () => {
      await expect(
        gitClient().ensureWorktree({ repoPath: repoPath(), protocolName: '0001-ok', baseBranch }, signal),
      ).rejects.toMatchObject({ code: 'ORC_BRANCH_NAME_INVALID' })
      await expect(gitClient().push(repoPath(), baseBranch, signal)).rejects.toMatchObject({
        code: 'ORC_BRANCH_NAME_INVALID',
      })
      await expect(gitClient().checkBranchName(baseBranch, signal)).rejects.toMatchObject({
        code: 'ORC_BRANCH_NAME_INVALID',
      })
      expect(existsSync(callLog)).toBe(false)
    })

  const badUrls = [
    'ext::sh -c touch% /tmp/pwned',
    'fd::3',
    '-oProxyCommand=touch /tmp/pwned',
    'ssh://-oProxyCommand=x/a',
  ]
  for (const gitUrl of badUrls)
    it(`refuses to clone ${JSON.stringify(gitUrl)}`, async () => {
      await expect(
        gitClient().ensureRepo({ gitUrl, localPath: null }, { clone: true }, signal),
      ).rejects.toMatchObject({
        code: 'ORC_GIT_URL_REFUSED',
      })
      expect(existsSync(callLog)).toBe(false)
      expect(existsSync(join(root, 'Projects'))).toBe(false)
    })
})

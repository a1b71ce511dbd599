import { describe, expect, it } from 'vitest'
import { cloneDirFor, parseGitUrl, redactGitUrl, redactUrlsInText } from './git-url.js'

const open = { allowLocalRepos: true }
const shared = { allowLocalRepos: false }

const cloneDir = (url: string): string => {
  const source = parseGitUrl(url, open)
  if (source.kind !== 'remote') throw new Error('expected a remote')
  return cloneDirFor(source)
}

describe('parseGitUrl', () => {
  it('namespaces remotes by host and full path, keeping GitLab subgroups', () => {
    expect(cloneDir('https://github.com/acme/demo.git')).toBe('github.com/acme/demo')
    expect(cloneDir('https://gitlab.com/group/sub/repo.git')).toBe('gitlab.com/group/sub/repo')
    expect(cloneDir('git@github.com:acme/demo.git')).toBe('github.com/acme/demo')
    expect(cloneDir('ssh://git@gitlab.example.com:2222/a/b/c')).toBe('gitlab.example.com/a/b/c')
    expect(cloneDir('https://example.com/demo.git')).toBe('example.com/demo')
  })

  it('accepts local paths and file:// only when local repositories are allowed', () => {
    expect(parseGitUrl('/srv/git/origin.git', open)).toEqual({ kind: 'local', path: '/srv/git/origin.git' })
    expect(parseGitUrl('file:///srv/git/origin', open)).toEqual({ kind: 'local', path: '/srv/git/origin' })
    for (const url of ['/srv/git/origin', 'file:///srv/git/origin', '~/repo'])
      expect(() => parseGitUrl(url, shared)).toThrow(expect.objectContaining({ code: 'ORC_GIT_URL_REFUSED' }))
  })

  const refused = [
    'ext::sh -c touch% /tmp/pwned',
    'ext::sh',
    'fd::17',
    '-oProxyCommand=touch /tmp/pwned',
    '--upload-pack=touch /tmp/x',
    'ssh://-oProxyCommand=x/a/b',
    'http://example.com/a/b.git',
    'git://example.com/a/b.git',
    'ftp://example.com/a.git',
    'https://github.com/acme/../../etc',
    'https://github.com/acme/-rf',
    'https://github.com/',
    'https://github.com/a b/c',
    'https://github.com/ünï/c',
    'relative/path',
    '/srv/../etc/passwd',
    '',
  ]
  for (const url of refused)
    it(`refuses ${JSON.stringify(url)}`, () =>
      expect(() => parseGitUrl(url, open)).toThrow(expect.objectContaining({ code: 'ORC_GIT_URL_REFUSED' })))

  it('never echoes credentials in its refusal', () => {
    try {
      parseGitUrl('https://user:s3cret@github.com/a/../b', open)
      expect.unreachable()
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('s3cret')
    }
  })

  it('masks credentials in URLs and free text', () => {
    expect(redactGitUrl('https://x-access-token:abc@github.com/a/b.git')).toBe(
      'https://***@github.com/a/b.git',
    )
    expect(redactUrlsInText("fatal: unable to access 'https://tok@host/a/': 403")).toBe(
      "fatal: unable to access 'https://***@host/a/': 403",
    )
  })
})

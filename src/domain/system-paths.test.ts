import { describe, expect, it } from 'vitest'
import { systemPathProblem } from './system-paths.js'

describe('systemPathProblem', () => {
  it('refuses system trees and anything below them', () => {
    for (const path of [
      '/etc',
      '/etc/ssh',
      '/usr/lib/x',
      '/proc/self',
      '/sys',
      '/dev/shm',
      '/boot',
      '/run/user',
    ])
      expect(systemPathProblem(path, '/home/me'), path).toContain('system folder')
  })

  it('refuses shared roots and the home folder themselves, but not repositories below them', () => {
    for (const path of [
      '/',
      '/home',
      '/root',
      '/var',
      '/tmp',
      '/opt',
      '/srv',
      '/home/me',
      '/home/me/',
      '/var/../',
    ])
      expect(systemPathProblem(path, '/home/me'), path).toBeDefined()
    for (const path of [
      '/home/me/code/repo',
      '/srv/git/demo',
      '/tmp/work/repo',
      '/var/lib/tgz/repo',
      '/root/repo',
    ])
      expect(systemPathProblem(path, '/home/me'), path).toBeUndefined()
  })
})

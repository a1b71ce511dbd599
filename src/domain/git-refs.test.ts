import { describe, expect, it } from 'vitest'
import {
  branchNameProblem,
  formatProtocolName,
  nextProtocolNumber,
  parseProtocolName,
  relativePathProblem,
  stepFileNameProblem,
} from './git-refs.js'

const INJECTIONS = [
  '../escape',
  '0001-../../etc',
  '-oProxyCommand=touch /tmp/pwned',
  '--upload-pack=evil',
  '0001-a b',
  '0001-ünïcode',
  '0001-a..b',
  '0001-a;rm -rf',
  '0001-$(id)',
  'ext::sh -c touch% /tmp/pwned',
  '',
]

describe('protocol names', () => {
  it('splits NNNN-short-name', () => {
    expect(parseProtocolName('0042-add-login')).toEqual({ number: '0042', shortName: 'add-login' })
  })

  it('refuses names without a dash instead of crashing like the original', () => {
    expect(() => parseProtocolName('demo')).toThrow(
      expect.objectContaining({ code: 'ORC_PROTOCOL_NAME_INVALID' }),
    )
  })

  for (const name of INJECTIONS)
    it(`refuses ${JSON.stringify(name)}`, () =>
      expect(() => parseProtocolName(name)).toThrow(
        expect.objectContaining({ code: 'ORC_PROTOCOL_NAME_INVALID' }),
      ))

  it('formats a number and free text into a valid name', () => {
    const name = formatProtocolName(7, 'Add Login – with OAuth!')
    expect(name).toBe('0007-add-login-with-oauth')
    expect(() => parseProtocolName(name)).not.toThrow()
    expect(formatProtocolName(12, '../../')).toBe('0012-task')
  })

  it('numbers past the highest existing NNNN', () => {
    expect(nextProtocolNumber(['0001-a', '0009-b', 'notes', 'origin/0003-c'])).toBe(10)
    expect(nextProtocolNumber([])).toBe(1)
  })
})

describe('branch names', () => {
  it('accepts ordinary branches', () => {
    for (const name of ['main', 'feature/x-1', '0001-demo', 'release-1.2'])
      expect(branchNameProblem(name)).toBeNull()
  })

  for (const name of [
    '-oProxyCommand=x',
    'a..b',
    'a b',
    'ünï',
    'a~1',
    'a^',
    'a:b',
    'a?',
    'a*',
    'a[',
    'a\\b',
    '.hidden',
    'a/.b',
    'a//b',
    'a/',
    'a.lock',
    'a@{1}',
    'HEAD',
    '@',
    'a.',
    '',
  ])
    it(`refuses ${JSON.stringify(name)}`, () => expect(branchNameProblem(name)).not.toBeNull())
})

describe('relative paths', () => {
  it('accepts paths inside their root', () => {
    expect(relativePathProblem('outputs/01-a.md')).toBeNull()
    expect(relativePathProblem('prompts/qa.md')).toBeNull()
  })

  for (const path of ['../x', 'a/../../x', '/etc/passwd', '~/x', '-rf', 'a/-b', 'a\\b', 'a\nb', ''])
    it(`refuses ${JSON.stringify(path)}`, () => expect(relativePathProblem(path)).not.toBeNull())

  it('accepts only NN-name.md step files', () => {
    expect(stepFileNameProblem('01-build-api.md')).toBeNull()
    for (const name of ['../01-x.md', '01-x.txt', 'x.md', '01-a/b.md', '01-..md', '01- a.md', '-01.md'])
      expect(stepFileNameProblem(name)).not.toBeNull()
  })
})

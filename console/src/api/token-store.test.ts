import { describe, expect, it } from 'vitest'
import { PROJECT_TOKENS_KEY, TOKEN_KEY, createTokenStore, memoryStorage } from './token-store.js'

describe('token store', () => {
  it('keeps the API token in session storage by default', () => {
    const session = memoryStorage()
    const local = memoryStorage()
    const store = createTokenStore(session, local)
    store.setApiToken('abc', false)
    expect(session.getItem(TOKEN_KEY)).toBe('abc')
    expect(local.getItem(TOKEN_KEY)).toBeNull()
    expect(store.remembered()).toBe(false)
  })

  it('moves the token and project tokens to local storage on "remember me", and back', () => {
    const session = memoryStorage()
    const local = memoryStorage()
    const store = createTokenStore(session, local)
    store.setProjectToken(4, 'p4')
    store.setApiToken('abc', true)
    expect(local.getItem(TOKEN_KEY)).toBe('abc')
    expect(JSON.parse(local.getItem(PROJECT_TOKENS_KEY) ?? '{}')).toEqual({ 4: 'p4' })
    expect(session.getItem(PROJECT_TOKENS_KEY)).toBeNull()
    expect(store.projectToken(4)).toBe('p4')
    store.setApiToken('abc', false)
    expect(local.getItem(TOKEN_KEY)).toBeNull()
    expect(local.getItem(PROJECT_TOKENS_KEY)).toBeNull()
    expect(store.projectToken(4)).toBe('p4')
  })

  it('remembers an empty token choice (auth off, but remembered project tokens)', () => {
    const local = memoryStorage()
    const store = createTokenStore(memoryStorage(), local)
    store.setApiToken(undefined, true)
    store.setProjectToken(1, 'one')
    expect(store.apiToken()).toBeUndefined()
    expect(store.remembered()).toBe(true)
    expect(store.projectToken(1)).toBe('one')
  })

  it('forgets a single project token and ignores corrupt storage', () => {
    const session = memoryStorage()
    const store = createTokenStore(session, memoryStorage())
    store.setProjectToken(1, 'one')
    store.setProjectToken(1, undefined)
    expect(store.projectToken(1)).toBeUndefined()
    session.setItem(PROJECT_TOKENS_KEY, '{not json')
    expect(store.projectToken(1)).toBeUndefined()
    session.setItem(PROJECT_TOKENS_KEY, '{"2": 5, "3": "three"}')
    expect(store.projectToken(2)).toBeUndefined()
    expect(store.projectToken(3)).toBe('three')
  })

  it('forgetAll clears both storages', () => {
    const session = memoryStorage()
    const local = memoryStorage()
    const store = createTokenStore(session, local)
    store.setApiToken('a', true)
    store.setApiBase('/x/')
    store.forgetAll()
    expect(store.apiToken()).toBeUndefined()
    expect(store.apiBase()).toBeUndefined()
  })
})

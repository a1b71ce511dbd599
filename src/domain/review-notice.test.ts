import { describe, expect, it } from 'vitest'
import type { JsonObject } from './json.js'
import { commentsFromOthers, isReviewDelivery, reviewNoticeOf } from './review-notice.js'

const pr = { number: 7, head: { ref: '0001-demo' } }

describe('review notices', () => {
  it('reads an inline GitHub comment with its file, line and author', () => {
    const notice = reviewNoticeOf('github', 'pull_request_review_comment', {
      action: 'created',
      pull_request: pr,
      comment: { id: 5, body: ' Off by one. ', path: 'a.ts', line: 3, user: { login: 'alice' } },
    })
    expect(notice).toMatchObject({ prNumber: 7, branch: '0001-demo' })
    expect(notice?.comments).toEqual([
      {
        key: 'pull_request_review_comment:5',
        author: 'alice',
        body: 'Off by one.',
        path: 'a.ts',
        line: 3,
        url: null,
        state: null,
      },
    ])
  })

  it('gives no comment for an edit, a deletion or an approval without a body', () => {
    const edited = { action: 'edited', pull_request: pr, comment: { id: 5, body: 'x' } }
    expect(reviewNoticeOf('github', 'pull_request_review_comment', edited)?.comments).toEqual([])
    const approval = {
      action: 'submitted',
      pull_request: pr,
      review: { id: 9, state: 'approved', body: null },
    }
    expect(reviewNoticeOf('github', 'pull_request_review', approval)?.comments).toEqual([])
  })

  it('takes GitLab notes on merge requests only, and never system notes', () => {
    const note = (attrs: JsonObject): JsonObject => ({ object_kind: 'note', object_attributes: attrs })
    expect(isReviewDelivery('gitlab', 'Note Hook', note({ noteable_type: 'Issue', note: 'x' }))).toBe(false)
    const system = note({ noteable_type: 'MergeRequest', note: 'added 1 commit', system: true })
    expect(reviewNoticeOf('gitlab', 'Note Hook', system)?.comments).toEqual([])
    expect(reviewNoticeOf('github', 'push', {})).toBeUndefined()
  })

  it("drops the server's own comments whatever the case of the login", () => {
    const mine = { key: 'a', author: 'TGZ[bot]', body: 'b', path: null, line: null, url: null, state: null }
    const theirs = { ...mine, key: 'b', author: 'alice' }
    expect(commentsFromOthers([mine, theirs], ['tgz[bot]'])).toEqual([theirs])
  })
})

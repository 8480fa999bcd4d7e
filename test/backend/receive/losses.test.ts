/** The receiver's record of `events/loss` announcements: declared ranges are not open gaps, and acks may pass them. */
import t from 'tap'
import { LossBook, parseLossMessage } from '../../../scripts/backend/receive/losses'
import { SeqRanges } from '../../../scripts/backend/receive/seq-ranges'

const msg = (o: Record<string, unknown>): Buffer =>
  Buffer.from(
    JSON.stringify({
      deviceId: 'cam',
      at: '2026-01-01T00:00:00Z',
      cause: 'corrupt-database',
      detail: 'd',
      resumesAt: 1025,
      ...o,
    }),
  )

t.test('lost and skipped ranges close the gap; only missing seqs count as lost', async (t) => {
  const stored = new SeqRanges()
  for (let s = 1; s <= 40; s++) stored.add(s)
  for (let s = 1025; s <= 1030; s++) stored.add(s)
  const book = new LossBook()
  t.same(book.openGaps(stored), [{ from: 41, to: 1024 }], 'before the announcement: a gap to wait for')
  t.equal(book.contiguousThrough(stored), 40)
  t.ok(
    book.add(parseLossMessage('cam', msg({ lost: { from: 38, to: 56, frames: 19 }, skipped: { from: 57, to: 1024 } }))),
  )
  t.notOk(
    book.add(parseLossMessage('cam', msg({ lost: { from: 38, to: 56, frames: 19 }, skipped: { from: 57, to: 1024 } }))),
    'the retained copy again: nothing new',
  )
  t.same(book.openGaps(stored), [], 'nothing left to wait for')
  t.match(
    book.lostForGood(stored),
    [{ from: 41, to: 56, kind: 'lost', cause: 'corrupt-database' }],
    '38..40 arrived; 41..56 are lost',
  )
  t.equal(book.skipped(), 968)
  t.equal(book.contiguousThrough(stored), 1030, 'an end-to-end ack may pass over the declared ranges')
})

t.test('bad announcements are refused with the reason', async (t) => {
  t.throws(() => parseLossMessage('cam', Buffer.from('nope')), /not UTF-8 JSON/)
  t.throws(() => parseLossMessage('other', msg({})), /deviceId 'cam' differs from the topic's 'other'/)
  t.throws(() => parseLossMessage('cam', msg({ cause: 'x' })), /unknown cause 'x'/)
  t.throws(() => parseLossMessage('cam', msg({ lost: { from: 9, to: 3 } })), /'lost' must be \{from, to\}/)
  t.throws(() => parseLossMessage('cam', msg({ resumesAt: 0 })), /resumesAt/)
})

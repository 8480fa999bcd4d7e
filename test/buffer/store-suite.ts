/**
 * The one behaviour suite every FrameStore implementation must pass. `factory` returns a fresh, empty store
 * (a new file for SQLite) with the given limits.
 */
import type { Test } from 'tap'
import { StorageError } from '../../agent/buffer/errors'
import type { BufferLimits, FrameStore } from '../../agent/buffer/store'
import { makeFrame, verifyFrame } from './fixtures/frames'

export type StoreFactory = (limits?: BufferLimits) => FrameStore

const limits = (over: Partial<BufferLimits>): BufferLimits => ({
  maxBytes: 0,
  maxFrames: 0,
  policy: 'drop-oldest',
  ttlMs: 0,
  ...over,
})

export function storeSuite(t: Test, factory: StoreFactory): void {
  const open = (l?: BufferLimits): FrameStore => {
    const s = factory(l)
    t.teardown(() => s.close())
    return s
  }

  t.test('appends get strictly increasing seqs and peek returns them oldest first, intact', async (t) => {
    const s = open()
    const seqs = [0, 1, 2, 3, 4].map((n) => s.append(makeFrame(n, 500 + n * 100)).seq!)
    t.ok(seqs[0] >= 1, 'seqs are positive')
    for (let i = 1; i < seqs.length; i++) t.equal(seqs[i], seqs[i - 1] + 1, 'one store hands out contiguous seqs')
    const got = s.peek(10)
    t.same(
      got.map((f) => f.seq),
      seqs,
    )
    t.same(
      got.map((f) => verifyFrame(f)),
      [0, 1, 2, 3, 4],
      'jpeg bytes, size and table id come back as appended',
    )
    t.same(
      got.map((f) => f.jpeg.length),
      [500, 600, 700, 800, 900],
    )
    t.same(s.stats(), { frames: 5, bytes: 3500, dropped: 0, rejected: 0, expired: 0 })
  })

  t.test('peek honours limit and afterSeq', async (t) => {
    const s = open()
    const seqs = [0, 1, 2, 3, 4, 5].map((n) => s.append(makeFrame(n)).seq!)
    t.same(
      s.peek(2).map((f) => f.seq),
      seqs.slice(0, 2),
    )
    t.same(
      s.peek(3, seqs[1]).map((f) => f.seq),
      seqs.slice(2, 5),
    )
    t.same(s.peek(10, seqs[5]), [])
    t.same(s.peek(0), [])
    t.same(s.stats().frames, 6, 'peek removes nothing')
  })

  t.test('capture metadata round-trips', async (t) => {
    const s = open()
    const seq = s.append({
      jpeg: new Uint8Array([0xff, 0xd8, 0xff, 0xd9]),
      capturedAt: 1_700_000_000_123,
      tableId: 'deepn-q50',
      width: 1920,
      height: 1080,
    }).seq
    t.same(s.peek(1)[0], {
      seq,
      jpeg: new Uint8Array([0xff, 0xd8, 0xff, 0xd9]),
      capturedAt: 1_700_000_000_123,
      tableId: 'deepn-q50',
      width: 1920,
      height: 1080,
    })
  })

  t.test('a quantDigest is kept as given; a frame appended without one comes back without one', async (t) => {
    const s = open()
    const a = s.append({ ...makeFrame(1), quantDigest: '0123456789abcdef' }).seq
    const b = s.append(makeFrame(2)).seq
    const [fa, fb] = s.peek(2)
    t.same([fa.seq, fa.quantDigest], [a, '0123456789abcdef'])
    t.same([fb.seq, 'quantDigest' in fb], [b, false])
  })

  t.test('a keepMapId is kept as given; a frame appended without one comes back without one', async (t) => {
    const s = open()
    const a = s.append({ ...makeFrame(1), keepMapId: 'lot-a.v3' }).seq
    const b = s.append(makeFrame(2)).seq
    const [fa, fb] = s.peek(2)
    t.same([fa.seq, fa.keepMapId], [a, 'lot-a.v3'])
    t.same([fb.seq, 'keepMapId' in fb], [b, false])
  })

  t.test('the store keeps its own copy of the jpeg', async (t) => {
    const s = open()
    const frame = makeFrame(7)
    s.append(frame)
    frame.jpeg.fill(0)
    t.equal(verifyFrame(s.peek(1)[0]), 7)
  })

  t.test('remove deletes one frame; unknown seqs are ignored', async (t) => {
    const s = open()
    const seqs = [0, 1, 2].map((n) => s.append(makeFrame(n, 100)).seq!)
    s.remove(seqs[1])
    s.remove(seqs[1])
    s.remove(999_999)
    t.same(
      s.peek(10).map((f) => f.seq),
      [seqs[0], seqs[2]],
    )
    t.same(s.stats(), { frames: 2, bytes: 200, dropped: 0, rejected: 0, expired: 0 })
  })

  t.test('removeThrough acknowledges everything up to a seq', async (t) => {
    const s = open()
    const seqs = [0, 1, 2, 3, 4].map((n) => s.append(makeFrame(n, 100)).seq!)
    t.equal(s.removeThrough(seqs[2]), 3)
    t.equal(s.removeThrough(seqs[2]), 0, 'nothing left to remove')
    t.same(
      s.peek(10).map((f) => f.seq),
      seqs.slice(3),
    )
    t.equal(s.stats().bytes, 200)
  })

  t.test('seqs are never reused after every frame was removed', async (t) => {
    const s = open()
    const a = s.append(makeFrame(1)).seq!
    const b = s.append(makeFrame(2)).seq!
    s.removeThrough(b)
    const c = s.append(makeFrame(3)).seq!
    t.ok(c > b && b > a, `${a} < ${b} < ${c}`)
  })

  t.test('maxFrames with drop-oldest drops the oldest and reports them', async (t) => {
    const s = open(limits({ maxFrames: 3 }))
    const seqs = [0, 1, 2].map((n) => s.append(makeFrame(n)).seq!)
    const r = s.append(makeFrame(3))
    t.same(r.dropped, [seqs[0]])
    t.same(
      s.peek(10).map((f) => verifyFrame(f)),
      [1, 2, 3],
    )
    t.equal(s.stats().dropped, 1)
  })

  t.test('maxBytes with drop-oldest drops as many as needed', async (t) => {
    const s = open(limits({ maxBytes: 3000 }))
    const seqs = [0, 1, 2].map((n) => s.append(makeFrame(n, 1000)).seq!)
    const r = s.append(makeFrame(3, 2500))
    t.same(r.dropped, seqs, 'all three had to go to fit 2500 bytes under 3000')
    t.same(s.stats(), { frames: 1, bytes: 2500, dropped: 3, rejected: 0, expired: 0 })
    const r2 = s.append(makeFrame(4, 500))
    t.same(r2.dropped, [], 'exactly at the limit fits')
    t.equal(s.stats().bytes, 3000)
  })

  t.test('reject-new refuses the new frame and keeps the old ones', async (t) => {
    const s = open(limits({ maxFrames: 2, policy: 'reject-new' }))
    s.append(makeFrame(0))
    const b = s.append(makeFrame(1)).seq!
    const r = s.append(makeFrame(2))
    t.equal(r.seq, undefined)
    t.same(r.dropped, [])
    t.same(
      s.peek(10).map((f) => verifyFrame(f)),
      [0, 1],
    )
    t.same(s.stats(), { frames: 2, bytes: 2000, dropped: 0, rejected: 1, expired: 0 })
    s.remove(b)
    t.equal(s.append(makeFrame(3)).seq, b + 1, 'a refused frame consumed no seq')
  })

  t.test('a frame larger than maxBytes is rejected under either policy without dropping others', async (t) => {
    for (const policy of ['drop-oldest', 'reject-new'] as const) {
      const s = open(limits({ maxBytes: 1500, policy }))
      s.append(makeFrame(0, 1000))
      const r = s.append(makeFrame(1, 1501))
      t.equal(r.seq, undefined, policy)
      t.same(r.dropped, [], policy)
      t.same(s.stats(), { frames: 1, bytes: 1000, dropped: 0, rejected: 1, expired: 0 }, policy)
    }
  })

  t.test('TTL: expire() and append() remove frames captured too long ago', async (t) => {
    const now = Date.now()
    const s = open(limits({ ttlMs: 60_000 }))
    const a = s.append(makeFrame(0, 100, now - 50_000)).seq!
    const b = s.append(makeFrame(1, 100, now - 40_000)).seq!
    t.same(s.expire(now - 100_000), [], 'nothing is older than the TTL at that time')
    t.same(s.expire(now + 15_000), [a], 'a is 65 s old then')
    t.same(s.stats().expired, 1)
    const stale = s.append(makeFrame(2, 100, now - 120_000))
    t.same(stale.dropped, [])
    const r = s.append(makeFrame(3, 100, now))
    t.same(r.dropped, [stale.seq], 'append expires by the wall clock and reports it')
    t.same(
      s.peek(10).map((f) => f.seq),
      [b, r.seq],
    )
    t.same(s.stats(), { frames: 2, bytes: 200, dropped: 0, rejected: 0, expired: 2 })
  })

  t.test('without a TTL nothing expires', async (t) => {
    const s = open()
    s.append(makeFrame(0, 100, 0))
    t.same(s.expire(Date.now()), [])
    t.equal(s.stats().frames, 1)
  })

  t.test('setLimits applies from the next append', async (t) => {
    const s = open()
    const seqs = [0, 1, 2, 3].map((n) => s.append(makeFrame(n)).seq!)
    s.setLimits(limits({ maxFrames: 2 }))
    t.equal(s.stats().frames, 4, 'nothing dropped silently')
    t.same(s.append(makeFrame(4)).dropped, seqs.slice(0, 3))
    s.setLimits(limits({ maxFrames: 2, policy: 'reject-new' }))
    t.equal(s.append(makeFrame(5)).seq, undefined)
  })

  t.test('an append that loses frames says why, in a stable sentence; one that loses none says nothing', async (t) => {
    const s = open(limits({ maxFrames: 2 }))
    t.equal(s.append(makeFrame(0)).reason, undefined)
    t.equal(s.append(makeFrame(1)).reason, undefined)
    const first = s.append(makeFrame(2))
    t.equal(first.reason, 'buffer full (buffer.maxFrames 2): oldest unsent frames dropped (drop-oldest)')
    t.equal(
      s.append(makeFrame(3)).reason,
      first.reason,
      'the same cause, the same words (status changes only when the cause does)',
    )
    s.setLimits(limits({ maxFrames: 2, policy: 'reject-new' }))
    t.equal(s.append(makeFrame(4)).reason, 'buffer full (buffer.maxFrames 2): new frames refused (reject-new)')
    s.setLimits(limits({ maxBytes: 100, policy: 'reject-new' }))
    t.equal(s.append(makeFrame(5, 500)).reason, 'frame larger than buffer.maxBytes (100 bytes): refused')
    s.setLimits(limits({ ttlMs: 1000 }))
    t.equal(s.append(makeFrame(6, 100, Date.now() - 5000)).reason, undefined, 'an append that expires nothing')
    t.equal(s.append(makeFrame(7)).reason, 'frames older than buffer.ttlSec (1 s) expired unsent')
  })

  t.test('one append can drop hundreds of frames (more than one internal chunk)', async (t) => {
    const s = open()
    const seqs = Array.from({ length: 200 }, (_, n) => s.append(makeFrame(n, 10)).seq!)
    s.setLimits(limits({ maxFrames: 10 }))
    const r = s.append(makeFrame(200, 10))
    t.same(r.dropped, seqs.slice(0, 191))
    t.same(
      s.peek(100).map((f) => verifyFrame(f)),
      Array.from({ length: 10 }, (_, i) => 191 + i),
    )
    t.same(s.stats(), { frames: 10, bytes: 100, dropped: 191, rejected: 0, expired: 0 })
  })

  t.test('a fresh store has no pending losses; settling one it does not hold changes nothing', async (t) => {
    const s = open()
    t.same(s.pendingLosses(), [])
    s.settleLoss({ at: new Date(0).toISOString(), cause: 'power-loss', detail: 'not recorded here', resumesAt: 5 })
    t.same(s.pendingLosses(), [])
    t.equal(s.stats().frames, 0)
  })

  t.test('bad input fails with an error naming the problem', async (t) => {
    const s = open()
    const good = makeFrame(0)
    t.throws(() => s.append({ ...good, jpeg: 'x' as unknown as Uint8Array }), /frame\.jpeg must be a Uint8Array/)
    t.throws(() => s.append({ ...good, jpeg: new Uint8Array(0) }), /frame\.jpeg is empty/)
    t.throws(() => s.append({ ...good, width: 0 }), /frame\.width must be a positive integer/)
    t.throws(() => s.append({ ...good, height: 1.5 }), /frame\.height must be a positive integer/)
    t.throws(() => s.append({ ...good, capturedAt: NaN }), /frame\.capturedAt/)
    t.throws(() => s.append({ ...good, tableId: '' }), /frame\.tableId/)
    t.throws(() => s.append({ ...good, quantDigest: '' }), /frame\.quantDigest/)
    t.throws(() => s.append({ ...good, keepMapId: '' }), /frame\.keepMapId/)
    t.throws(() => s.setLimits(limits({ maxBytes: -1 })), /limits\.maxBytes/)
    t.throws(
      () => s.setLimits(limits({ policy: 'drop-newest' as 'reject-new' })),
      /limits\.policy must be one of drop-oldest, reject-new/,
    )
    t.throws(() => s.peek(-1), /peek limit/)
    t.throws(() => s.remove(1.5), /remove must be an integer seq/)
    t.equal(s.stats().frames, 0, 'nothing was stored by the bad calls')
    t.equal(s.stats().rejected, 0, 'invalid input is an error, not a policy rejection')
  })

  t.test('a closed store refuses every call with StorageError', async (t) => {
    const s = factory()
    s.append(makeFrame(0))
    s.close()
    s.close()
    t.throws(() => s.append(makeFrame(1)), StorageError)
    t.throws(() => s.peek(1), /closed/)
    t.throws(() => s.stats(), /closed/)
    t.throws(() => s.pendingLosses(), /closed/)
  })
}

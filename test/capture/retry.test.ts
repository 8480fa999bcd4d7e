import t from 'tap'
import type { RawImage } from '../../shared/codec/types'
import { backoffDelay, RetryingSource, SourceExhaustedError } from '../../agent/capture'
import type { FrameSource } from '../../agent/capture'
import { memoryLog } from './helpers'

t.test('backoff: doubles from minMs, capped at maxMs, jitter within [d/2, d]', async (t) => {
  const lo = (f: number): number => backoffDelay(f, 100, 1000, () => 0)
  const hi = (f: number): number => backoffDelay(f, 100, 1000, () => 1)
  t.same([1, 2, 3, 4, 5, 10, 100].map(hi), [100, 200, 400, 800, 1000, 1000, 1000])
  t.same([1, 2, 3, 4, 5].map(lo), [50, 100, 200, 400, 500])
  const samples = Array.from({ length: 200 }, () => backoffDelay(3, 100, 1000))
  t.ok(samples.every((d) => d >= 200 && d <= 400), 'random jitter stays in range')
  t.ok(new Set(samples).size > 20, 'and actually varies')
})

/** A source scripted by a list of outcomes (used only to drive the wrapper's control flow). */
class Scripted implements FrameSource {
  readonly kind = 'scripted'
  calls = 0
  closed = false
  constructor(private readonly outcomes: (Error | 'ok')[]) {}
  async capture(): Promise<RawImage> {
    const o = this.outcomes[Math.min(this.calls++, this.outcomes.length - 1)]
    if (o !== 'ok') throw o
    return { width: 1, height: 1, format: 'gray', data: new Uint8Array(1) }
  }
  async close(): Promise<void> { this.closed = true }
}

t.test('maxAttempts gives up with the last error; exhaustion passes straight through', async (t) => {
  const { lines, log } = memoryLog()
  const inner = new Scripted([new Error('one'), new Error('two'), new Error('three')])
  const src = new RetryingSource(inner, { minMs: 1, maxMs: 2, maxAttempts: 3, log })
  await t.rejects(src.capture(), /^three$/)
  t.equal(inner.calls, 3)
  t.match(lines.at(-1), /giving up after 3 attempts: three/)
  t.equal(src.lastError?.message, 'three')

  const ex = new Scripted([new SourceExhaustedError('done')])
  await t.rejects(new RetryingSource(ex, { log }).capture(), SourceExhaustedError)
  t.equal(ex.calls, 1)
})

t.test('close() ends a backoff wait and closes the inner source', async (t) => {
  const inner = new Scripted([new Error('camera gone')])
  const src = new RetryingSource(inner, { minMs: 60000, maxMs: 60000, log: memoryLog().log })
  const p = src.capture()
  setTimeout(() => { void src.close() }, 100)
  const t0 = Date.now()
  await t.rejects(p, { name: 'AbortError' })
  t.ok(Date.now() - t0 < 5000, 'did not wait the 60 s backoff')
  t.ok(inner.closed)
})

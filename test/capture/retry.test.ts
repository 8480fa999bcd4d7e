import t from 'tap'
import type { RawImage } from '../../shared/codec/types'
import { CaptureAbortedError, RetryingSource, SourceExhaustedError } from '../../agent/capture'
import type { FrameSource } from '../../agent/capture'
import { memoryLog } from './helpers'

/** A source scripted by a list of outcomes (used only to drive the wrapper's control flow). */
class Scripted implements FrameSource {
  readonly kind = 'scripted'
  calls = 0
  closed = false
  constructor(private readonly outcomes: (Error | 'ok' | 'hang')[]) {}
  async capture(signal?: AbortSignal): Promise<RawImage> {
    const o = this.outcomes[Math.min(this.calls++, this.outcomes.length - 1)]
    if (o === 'hang') {
      return new Promise((_resolve, reject) =>
        signal?.addEventListener('abort', () => reject(new CaptureAbortedError('scripted: capture aborted')), {
          once: true,
        }),
      )
    }
    if (o !== 'ok') throw o
    return { width: 1, height: 1, format: 'gray', data: new Uint8Array(1) }
  }
  async close(): Promise<void> {
    this.closed = true
  }
}

const retrying = (
  inner: FrameSource,
  opts: Partial<ConstructorParameters<typeof RetryingSource>[1]> = {},
): RetryingSource => new RetryingSource(() => inner, { kind: 'scripted', log: memoryLog().log, ...opts })

t.test('maxAttempts gives up with the last error; exhaustion passes straight through', async (t) => {
  const { lines, log } = memoryLog()
  const inner = new Scripted([new Error('one'), new Error('two'), new Error('three')])
  const src = retrying(inner, { minMs: 1, maxMs: 2, maxAttempts: 3, log })
  await t.rejects(src.capture(), /^three$/)
  t.equal(inner.calls, 3)
  t.match(lines.at(-1), /giving up after 3 attempts: three/)
  t.equal(src.lastError?.message, 'three')

  const ex = new Scripted([new SourceExhaustedError('done')])
  await t.rejects(retrying(ex).capture(), SourceExhaustedError)
  t.equal(ex.calls, 1)
})

t.test('waits by the one backoff: retry n after min·2ⁿ, jitter from `random`', async (t) => {
  const { lines, log } = memoryLog()
  const inner = new Scripted([new Error('a'), new Error('b'), new Error('c'), 'ok'])
  const src = retrying(inner, { minMs: 4, maxMs: 10, reopenAfter: 99, random: () => 1, log })
  await src.capture()
  t.same(
    lines.filter((l) => /retrying/.test(l)).map((l) => Number(/retrying in (\d+) ms/.exec(l)![1])),
    [4, 8, 10],
  )
  t.match(lines.at(-1), /scripted: capture recovered after 3 failure\(s\)/)
})

t.test('a source failing reopenAfter times in a row is closed and opened anew', async (t) => {
  const opened: Scripted[] = []
  const errors: number[] = []
  const src = new RetryingSource(
    () => {
      const s = new Scripted(opened.length === 0 ? [new Error('wedged')] : ['ok'])
      opened.push(s)
      return s
    },
    { kind: 'scripted', log: memoryLog().log, minMs: 1, maxMs: 1, reopenAfter: 3, onError: (_e, n) => errors.push(n) },
  )
  const img = await src.capture()
  t.equal(img.width, 1)
  t.equal(opened.length, 2, 'a second source was opened')
  t.equal(opened[0].calls, 3, 'the first one failed reopenAfter times')
  t.ok(opened[0].closed, 'and was closed')
  t.same(errors, [1, 2, 3], 'every failure was reported')

  const throwing = new RetryingSource(
    () => {
      throw new Error('rpicam-vid not found')
    },
    { kind: 'rpicam', log: memoryLog().log, minMs: 1, maxMs: 1, maxAttempts: 2 },
  )
  await t.rejects(throwing.capture(), /rpicam-vid not found/, 'a source that cannot be opened is a failed attempt')
  t.equal(throwing.consecutiveFailures, 2)
})

t.test('an attempt past attemptTimeoutMs is aborted and counted as a failure', async (t) => {
  const { lines, log } = memoryLog()
  const inner = new Scripted(['hang', 'ok'])
  const src = retrying(inner, { minMs: 1, maxMs: 1, attemptTimeoutMs: 50, log })
  const img = await src.capture()
  t.equal(img.width, 1)
  t.equal(inner.calls, 2)
  t.match(
    lines.join('\n'),
    /scripted: capture failed \(1 in a row\), retrying in \d+ ms: scripted: capture timed out after 50 ms/,
  )
})

t.test('close(), an abort or new delays end a backoff wait', async (t) => {
  const inner = new Scripted([new Error('camera gone')])
  const src = retrying(inner, { minMs: 60000, maxMs: 60000 })
  const p = src.capture()
  setTimeout(() => {
    void src.close()
  }, 100)
  const t0 = Date.now()
  await t.rejects(p, { name: 'AbortError' })
  t.ok(Date.now() - t0 < 5000, 'did not wait the 60 s backoff')
  t.ok(inner.closed)

  const stop = new AbortController()
  const aborted = retrying(new Scripted([new Error('camera gone')]), { minMs: 60000, maxMs: 60000 }).capture(
    stop.signal,
  )
  setTimeout(() => stop.abort(), 100)
  await t.rejects(aborted, { name: 'AbortError' }, "the caller's signal ends the wait")

  const fixed = new Scripted([new Error('camera gone'), 'ok'])
  const live = retrying(fixed, { minMs: 60000, maxMs: 60000 })
  const next = live.capture()
  setTimeout(() => live.setRetry({ minMs: 10, maxMs: 20 }), 100)
  const t1 = Date.now()
  t.equal((await next).width, 1, 'setRetry: retried at once')
  t.ok(Date.now() - t1 < 5000)
})

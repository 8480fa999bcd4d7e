/**
 * `deepn run`'s capture loop retries a failing camera through RetryingSource, the retry path `deepn calibrate`
 * uses too, and keeps the loop's behaviour: every failure is logged and counted, a camera failing 3 times in a row
 * is opened anew, a settings change ends a retry wait at once, stop() does not wait out a backoff, and nothing is
 * fatal. A real `files` source over a real folder; the factory only counts how often a source is opened.
 */
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createSource } from '../../agent/capture'
import { MemoryFrameStore } from '../../agent/buffer/memory-store'
import { CaptureLoop, type SourceOptions } from '../../agent/pipeline/capture-loop'
import { AgentStats } from '../../agent/pipeline/stats'
import { applyPartial, changedKeys, defaults, type AgentConfig, type FlatConfig } from '../../shared/config'
import { encodeJpeg } from '../../shared/codec'
import { memoryLogger } from '../helpers/log'

const until = async (what: string, cond: () => boolean, ms = 15000): Promise<void> => {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

function loopOver(dir: string, extra: FlatConfig) {
  let config: AgentConfig = applyPartial(defaults(), {
    'capture.source': 'files',
    'capture.filesDir': dir,
    'capture.intervalMs': 0,
    ...extra,
  })
  const stats = new AgentStats()
  const log = memoryLogger('info')
  let opens = 0
  const loop = new CaptureLoop({
    config,
    store: new MemoryFrameStore(),
    stats,
    log,
    encode: encodeJpeg,
    payloadLimit: () => Infinity,
    createSource: (o: SourceOptions) => {
      opens++
      return createSource(o)
    },
  })
  const change = (partial: FlatConfig): void => {
    const next = applyPartial(config, partial)
    loop.reconfigure(next, changedKeys(config, next))
    config = next
  }
  return { loop, stats, log, change, opens: () => opens }
}

t.test(
  'run loop: failures logged, counted, retried with backoff; reopened after 3; a settings change retries now',
  async (t) => {
    const dir = t.testdir({})
    const { loop, stats, log, change, opens } = loopOver(dir, { 'capture.retryMinMs': 10, 'capture.retryMaxMs': 40 })
    t.teardown(() => loop.stop())
    loop.start()
    await until('4 capture errors', () => stats.captureErrors >= 4)
    t.match(stats.lastError?.message, /^capture: files: no images/)
    t.match(log.lines.join('\n'), /files: capture failed \(1 in a row\), retrying in \d+ ms: files: no images/)
    t.match(log.lines.join('\n'), /files: 3 failures in a row: the source is opened anew/)
    t.ok(opens() >= 2, `the failing source was opened anew (${opens()} opens)`)

    change({ 'capture.retryMinMs': 120000, 'capture.retryMaxMs': 120000 })
    const errors = stats.captureErrors
    await until('the next failure, now followed by a 1-2 min wait', () => stats.captureErrors > errors)
    writeFileSync(join(dir, 'frame.ppm'), Buffer.concat([Buffer.from('P6\n2 2\n255\n'), Buffer.alloc(12, 200)]))
    const frame = new Promise((resolve) => loop.once('frame', resolve))
    const t0 = Date.now()
    change({ 'capture.intervalMs': 50 }) // any change: the camera is tried again at once
    await frame
    t.ok(Date.now() - t0 < 10000, `a frame ${Date.now() - t0} ms after the change, not after the backoff`)
    t.equal(stats.captured, 1)
    t.match(log.lines.join('\n'), /capture recovered after \d+ failure/)
  },
)

t.test('run loop: stop() ends a backoff wait at once', async (t) => {
  const { loop, stats } = loopOver(t.testdir({}), { 'capture.retryMinMs': 120000, 'capture.retryMaxMs': 120000 })
  loop.start()
  await until('the first capture error', () => stats.captureErrors >= 1)
  const t0 = Date.now()
  await loop.stop()
  t.ok(Date.now() - t0 < 5000, `stopped in ${Date.now() - t0} ms`)
  t.equal(stats.captureErrors, 1, 'no further tries after stop')
})

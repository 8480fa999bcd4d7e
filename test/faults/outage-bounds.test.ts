/**
 * Fault: a long outage against the buffer's bounds (maxFrames 40, drop-oldest). Frames dropped by the policy are
 * counted where the backend sees them (telemetry, from the persisted counters); the rest arrive oldest first.
 */
import t from 'tap'
import { bufferMeta as meta } from '../helpers/buffer-file'
import { startScenario } from './scenario'

const N = 160
const telemetry = (s: { ledger: { sub: { on(x: string): { payload: Buffer }[] } } }) =>
  s.ledger.sub
    .on('telemetry')
    .map((m) => JSON.parse(m.payload.toString()) as { counters: { dropped: number }; backlog: { frames: number } })

t.test(`a long outage with maxFrames 40 and drop-oldest (${N} frames)`, async (t) => {
  const s = await startScenario(t, 'fault-outage', {
    capture: { width: 64, height: 48, intervalMs: 20, maxFrames: N },
    buffer: { maxFrames: 40, policy: 'drop-oldest' },
  })
  await s.ledger.waitFor((l) => l.delivered() >= 10, 30000, 'first frames')
  await s.broker.stop()
  await s.ledger.waitFor(() => meta(s.bufferPath, 'last_seq') >= N, 30000, 'the capture to finish during the outage')
  const dropped = meta(s.bufferPath, 'dropped')
  t.ok(dropped > 0, `the buffer dropped ${dropped} frames by policy`)
  const before = telemetry(s).length
  await s.broker.start()
  await s.ledger.waitFor(
    () =>
      telemetry(s)
        .slice(before)
        .some((m) => m.backlog.frames === 0),
    30000,
    'telemetry showing the backlog drained',
  )
  t.ok(
    telemetry(s)
      .slice(before)
      .every((m) => m.counters.dropped >= dropped),
    'telemetry reports the drops',
  )
  const a = await s.finish()
  t.equal(a.droppedByPolicy, dropped, 'every gap is a counted drop')
  const seqs = s.ledger.sub.on('frames').map((m) => Number(m.properties?.userProperties?.seq))
  const resumed = seqs.findIndex((q, i) => i > 0 && q > seqs[i - 1] + 1)
  const drained = seqs.slice(resumed)
  t.same(
    drained,
    [...drained].sort((x, y) => x - y),
    'the backlog drains oldest first',
  )
})

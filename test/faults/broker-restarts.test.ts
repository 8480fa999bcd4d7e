/** Fault: the broker restarts three times mid-stream. Every committed frame arrives; nothing is reported lost. */
import t from 'tap'
import { startScenario } from './scenario'

const N = 150

t.test('three broker restarts mid-stream', async (t) => {
  const s = await startScenario(t, 'fault-restarts', {
    capture: { width: 64, height: 48, intervalMs: 25, maxFrames: N },
  })
  for (const after of [30, 70, 110]) {
    await s.ledger.waitFor((l) => l.delivered() >= after, 30000, `${after} frames delivered`)
    await s.broker.restart()
  }
  await s.ledger.waitFor((l) => l.delivered() >= N, 60000, `all ${N} frames delivered`)
  const a = await s.finish()
  t.equal(a.committed, N, `${N} frames committed`)
  t.equal(a.delivered, N, 'every one delivered')
  t.equal(a.reportedLost + a.droppedByPolicy, 0, 'none lost')
})

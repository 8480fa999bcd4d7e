/**
 * A small disk: the buffer on a real 3 MB tmpfs (needs root, as here and in CI; skipped with the reason
 * elsewhere), a healthy stream, then an outage long enough to fill the disk. The WAL must stay bounded, frames
 * dropped for room must be counted, and everything else must arrive.
 */
import t from 'tap'
import { join } from 'node:path'
import { cannotMountTmpfs, fileSize, mountTmpfs } from '../helpers/tmpfs'
import { bufferMeta } from '../helpers/buffer-file'
import { startScenario } from './scenario'

const N = 500

t.test('a 3 MB disk: a healthy stream, then an outage that fills it', { skip: cannotMountTmpfs() }, async (t) => {
  const disk = mountTmpfs(t, '3m')
  const path = join(disk, 'buffer.db')
  const s = await startScenario(t, 'fault-smalldisk', {
    // 160x120 synthetic frames are a few KB: an outage of a few hundred fills the disk.
    capture: { width: 160, height: 120, intervalMs: 10, maxFrames: N },
    buffer: { path, policy: 'drop-oldest' },
  })
  let walPeak = 0
  const watch = setInterval(() => {
    walPeak = Math.max(walPeak, fileSize(`${path}-wal`))
  }, 20)
  t.teardown(() => clearInterval(watch))
  await s.ledger.waitFor((l) => l.delivered() >= 150, 60000, '150 frames on a healthy link')
  await s.broker.stop()
  await s.ledger.waitFor(() => bufferMeta(path, 'last_seq') >= N, 60000, 'the capture to finish during the outage')
  await s.broker.start()
  await s.ledger.waitFor(
    () =>
      s.ledger.sub
        .on('telemetry')
        .some(
          (m) =>
            JSON.parse(m.payload.toString()).backlog?.frames === 0 &&
            JSON.parse(m.payload.toString()).counters?.captured >= N,
        ),
    60000,
    'the backlog to drain',
  )
  clearInterval(watch)
  const a = await s.finish()
  t.comment(`WAL peak ${walPeak} B on a 3 MB disk`)
  t.ok(walPeak < 1 << 20, 'the WAL stays well under the disk size')
  t.equal(a.committed, N)
})

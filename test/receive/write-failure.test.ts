/**
 * A frame that cannot be written is not acknowledged: the broker redelivers it until the disk problem is fixed,
 * and then it is stored once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import t from 'tap'
import { startReceiver } from '../../scripts/receive/receiver'
import { startMosquitto } from '../helpers/mosquitto'
import { framesOnDisk } from './helpers/disk'
import { SimAgent, sleep, waitFor } from './helpers/sim-agent'

t.test('write error → no PUBACK → redelivered → stored once the folder is usable', async (t) => {
  const out = mkdtempSync(path.join(tmpdir(), 'deepn-receive-'))
  t.teardown(() => rmSync(out, { recursive: true, force: true }))
  // A plain file where the device's folder must go: every write for cam-w fails (ENOTDIR/EEXIST).
  writeFileSync(path.join(out, 'cam-w'), 'in the way')
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const lines: string[] = []
  const rx = await startReceiver({ url: broker.url, out, clientId: 'rx-wfail', summaryIntervalMs: 0, log: (l) => lines.push(l) })
  t.teardown(() => rx.close())
  await rx.subscribed
  const cam = new SimAgent(broker.url, 'cam-w')
  t.teardown(() => cam.close())
  await cam.send(1)
  await waitFor(() => rx.snapshot().writeErrors >= 2, 10000, 'the frame to fail twice (redelivered)')
  t.match(lines.join('\n'), /not acknowledging deepn\/cam-w\/frames \(will be redelivered\): storing cam-w seq 1 failed/)
  t.equal(rx.snapshot().devices.find((d) => d.deviceId === 'cam-w'), undefined, 'nothing counted as stored')
  rmSync(path.join(out, 'cam-w'))
  await waitFor(() => framesOnDisk(out, 'cam-w').size === 1, 15000, 'the redelivered frame to be stored')
  await sleep(300)
  t.same([...framesOnDisk(out, 'cam-w').keys()], [1])
  t.equal(rx.snapshot().devices.find((d) => d.deviceId === 'cam-w')?.frames, 1)
})

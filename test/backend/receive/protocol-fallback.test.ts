/** A broker that only speaks MQTT 3.1.1 (aedes, as in the demo): the receiver falls back and still stores. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import t from 'tap'
import { startReceiver } from '../../../scripts/backend/receive/receiver'
import { startAedes } from '../../helpers/aedes'
import { framesOnDisk } from './helpers/disk'
import { SimAgent, waitFor } from './helpers/sim-agent'

t.test('MQTT 5 refused → 3.1.1 persistent session', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepn-receive-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const broker = await startAedes()
  t.teardown(() => broker.close())
  const lines: string[] = []
  const rx = await startReceiver({
    url: broker.url,
    out: dir,
    clientId: 'rx-v311',
    summaryIntervalMs: 0,
    log: (l) => lines.push(l),
  })
  t.teardown(() => rx.close())
  await rx.subscribed
  t.match(lines.join('\n'), /falling back to MQTT 3\.1\.1/)
  t.match(lines.join('\n'), /MQTT 3\.1\.1, session new/)
  const cam = new SimAgent(broker.url, 'cam-v3')
  t.teardown(() => cam.close())
  for (let seq = 1; seq <= 5; seq++) await cam.send(seq)
  await waitFor(() => framesOnDisk(dir, 'cam-v3').size === 5, 10000, '5 frames on disk')
  t.same([...framesOnDisk(dir, 'cam-v3').keys()].sort(), [1, 2, 3, 4, 5])
})

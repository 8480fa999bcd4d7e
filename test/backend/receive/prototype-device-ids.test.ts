/**
 * Devices whose ids name Object.prototype members (`constructor`, `__proto__`, `toString`, …) are devices like any
 * other to the real receiver process on a real Mosquitto: each one's frames land in its own folder and index, and
 * it gets its own end-to-end ack, so per-device state is never an inherited member or a prototype.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import t from 'tap'
import { startMosquitto } from '../../helpers/mosquitto'
import { subscribe } from '../../helpers/subscriber'
import { framesOnDisk, indexSeqs, range } from './helpers/disk'
import { ReceiverProcess } from './helpers/receiver-process'
import { SimAgent, waitFor } from './helpers/sim-agent'

const NAMES = Object.getOwnPropertyNames(Object.prototype)
const N = 3

t.test('every Object.prototype name as a device id: own folder, own index, own ack', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepn-receive-proto-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const out = path.join(dir, 'dataset')
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const rx = new ReceiverProcess([
    '--url',
    broker.url,
    '--out',
    out,
    '--ack',
    '--ack-interval',
    '100',
    '--client-id',
    'rx-proto',
    '--summary',
    '0',
  ])
  t.teardown(() => rx.kill('SIGKILL'))
  await rx.waitForOutput('subscribed to deepn/+/frames')
  const acks = await subscribe(broker.url, ['deepn/+/ack'])
  t.teardown(() => acks.close())

  const agents = NAMES.map((name) => new SimAgent(broker.url, name))
  t.teardown(() => Promise.all(agents.map((a) => a.close())))
  for (let seq = 1; seq <= N; seq++) await Promise.all(agents.map((a) => a.send(seq)))

  const lastAck = (name: string): number | undefined => {
    const m = acks.messages.filter((x) => x.topic === `deepn/${name}/ack`).at(-1)
    return m ? (JSON.parse(m.payload.toString()) as { seq: number }).seq : undefined
  }
  await waitFor(
    () => NAMES.every((n) => framesOnDisk(out, n).size === N && lastAck(n) === N),
    30000,
    `${N} frames and an ack for every device\n${rx.stderr}`,
  )
  for (const name of NAMES) {
    t.same(
      [...framesOnDisk(out, name).keys()].sort((a, b) => a - b),
      range(1, N),
      `${name}: seqs 1..${N} in its own folder`,
    )
    t.same(indexSeqs(out, name), range(1, N), `${name}: its own index`)
    t.equal(lastAck(name), N, `${name}: acked through ${N}`)
  }
  t.notMatch(rx.stderr, /bad payload|failed/, 'nothing refused or failed')
})

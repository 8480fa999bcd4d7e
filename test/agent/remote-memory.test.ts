/**
 * Remote configuration cannot ask for more frame memory than the device allows (`capture.memoryBudgetMB`): the real
 * agent process on a real Mosquitto refuses, with the estimate and what to lower, a change whose frame memory would
 * pass the budget, refuses any remote attempt to raise the budget itself, accepts a change that fits, and never
 * captures the refused frame size (its peak RSS stays far below what an 8192x8192 frame takes).
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { readJpegMetadata } from '../../shared/codec/metadata'
import { startMosquitto } from '../helpers/mosquitto'
import { subscribe, type Subscriber } from '../helpers/subscriber'
import { agentDir, spawnAgent, writeConfig } from '../helpers/agent-process'

const widths = (sub: Subscriber): number[] =>
  sub.on('frames').map((m) => (readJpegMetadata(new Uint8Array(m.payload)) as { width: number }).width)
const results = (sub: Subscriber): { id: string | null; ok: boolean; error?: string; applied?: string[] }[] =>
  sub.on('config/result').map((m) => JSON.parse(m.payload.toString()))
/** Peak resident memory of a process so far, in MiB (Linux). */
const peakRssMiB = (pid: number): number =>
  Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024

t.test(
  'a remote change over the frame memory budget is refused with a reason; the budget cannot be raised remotely',
  async (t) => {
    const broker = await startMosquitto()
    t.teardown(() => broker.stop())
    const dir = agentDir()
    const deviceId = 'membudget'
    const sub = await subscribe(broker.url, [`deepn/${deviceId}/#`])
    t.teardown(() => sub.close())
    const agent = spawnAgent(
      writeConfig(dir, {
        deviceId,
        mqtt: { url: broker.url, reconnectMinMs: 100, reconnectMaxMs: 500 },
        capture: { width: 64, height: 48, intervalMs: 25, memoryBudgetMB: 64 },
        buffer: { path: join(dir, 'buffer.db') },
        log: { level: 'info' },
      }),
    )
    t.teardown(() => agent.signal('SIGKILL'))
    await sub.waitFor(
      () => sub.on('config').length >= 1 && widths(sub).length >= 3,
      30000,
      'the reported config and first frames',
    )
    t.match(
      JSON.parse(sub.on('config').at(-1)!.payload.toString()),
      { version: 0, config: { capture: { memoryBudgetMB: 64 } } },
      'the budget is reported',
    )

    const requests: [string, unknown, RegExp | null][] = [
      [
        'huge',
        { capture: { width: 8192, height: 8192, intervalMs: 0 } },
        /frame memory for 8192x8192 from 'synthetic' would be about \d+ MB .*over the budget of 64 MB \('capture\.memoryBudgetMB', set on the device\): lower 'capture\.width'/,
      ],
      ['inflight', { mqtt: { inflight: 256 }, capture: { width: 1280, height: 720 } }, /over the budget of 64 MB/],
      [
        'raise',
        { capture: { memoryBudgetMB: 100000 } },
        /'capture\.memoryBudgetMB' cannot be set remotely \(the device's own memory limit/,
      ],
      [
        'raise-and-grow',
        { capture: { memoryBudgetMB: 100000, width: 8192, height: 8192 } },
        /'capture\.memoryBudgetMB' cannot be set remotely/,
      ],
      ['fits', { capture: { width: 320, height: 240 } }, null],
    ]
    for (const [id, config] of requests) {
      await sub.client.publishAsync(`deepn/${deviceId}/config/set`, JSON.stringify({ id, config }), { qos: 1 })
    }
    await sub.waitFor(() => results(sub).length >= requests.length, 20000, 'every result')
    for (const [id, , re] of requests) {
      const r = results(sub).find((x) => x.id === id)
      if (re) {
        t.equal(r?.ok, false, `${id} refused`)
        t.match(r?.error, re, `${id}: the reason`)
      } else {
        t.match(r, { ok: true, applied: ['capture.width', 'capture.height'] }, `${id} accepted`)
      }
    }
    await sub.waitFor(() => widths(sub).filter((w) => w === 320).length >= 3, 15000, 'frames at the size that fits')
    t.ok(
      widths(sub).every((w) => w === 64 || w === 320),
      'no frame at a refused size',
    )
    t.match(JSON.parse(sub.on('config').at(-1)!.payload.toString()), {
      version: 1,
      config: { capture: { width: 320, memoryBudgetMB: 64 } },
    })
    const peak = peakRssMiB(agent.proc.pid!)
    t.ok(peak < 160, `peak RSS ${peak.toFixed(1)} MiB: the 8192x8192 frame (192 MiB raw) was never captured`)
    agent.signal('SIGTERM')
    t.equal(await agent.exited, 0)
  },
)

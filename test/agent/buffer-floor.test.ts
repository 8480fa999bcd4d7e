/**
 * The free-space floor on a real small filesystem (a 3 MB tmpfs; needs root, skipped with the reason otherwise)
 * with the real agent and a real Mosquitto. Before the fix, the fixed 32 MB floor made such a disk unusable
 * (`reject-new` stored nothing, `drop-oldest` dropped unacknowledged frames on a healthy link), and nothing on
 * MQTT said frames were being refused. Now the floor is `buffer.minFreePercent` of the filesystem, and the
 * retained `status` says `degraded` with the reason while frames are refused, `online` when they are not.
 */
import t from 'tap'
import * as fs from 'node:fs'
import { join } from 'node:path'
import { readJpegMetadata } from '../../shared/codec/metadata'
import type { StatusMessage } from '../../shared/contract/topics'
import { startMosquitto } from '../helpers/mosquitto'
import { subscribe, type Subscriber } from '../helpers/subscriber'
import { agentDir, spawnAgent, writeConfig } from '../helpers/agent-process'
import { cannotMountTmpfs, fillDisk, mountTmpfs } from '../helpers/tmpfs'

const skip = cannotMountTmpfs()
const seqOf = (p: Buffer): number => readJpegMetadata(new Uint8Array(p))!.seq as number
const seqs = (sub: Subscriber): Set<number> => new Set(sub.on('frames').map((m) => seqOf(m.payload)))
const statuses = (sub: Subscriber): StatusMessage[] =>
  sub.on('status').map((m) => JSON.parse(m.payload.toString()) as StatusMessage)

function config(
  url: string,
  dbFile: string,
  deviceId: string,
  buffer: Record<string, unknown>,
  maxFrames: number,
): Record<string, unknown> {
  return {
    deviceId,
    mqtt: { url, reconnectMinMs: 100, reconnectMaxMs: 300 },
    capture: { width: 64, height: 48, intervalMs: 20, maxFrames },
    buffer: { path: dbFile, ...buffer },
    log: { level: 'info' },
  }
}

for (const policy of ['reject-new', 'drop-oldest'] as const) {
  t.test(
    `3 MB disk, default floor, ${policy}: every frame is stored and delivered, status stays online`,
    { skip },
    async (t) => {
      const disk = mountTmpfs(t, '3m')
      const broker = await startMosquitto()
      t.teardown(() => broker.stop())
      const id = `floor-${policy}`
      const sub = await subscribe(broker.url, [`deepn/${id}/frames`, `deepn/${id}/status`])
      t.teardown(() => sub.close())
      const frames = 120
      const agent = spawnAgent(
        writeConfig(agentDir(), config(broker.url, join(disk, 'buffer.db'), id, { policy }, frames)),
      )
      t.teardown(() => agent.signal('SIGKILL'))
      await agent.waitForOutput(/capture stops/, 60000)
      await sub
        .waitFor(() => seqs(sub).size >= frames, 30000, `${frames} frames`)
        .catch((e) => {
          throw new Error(`${e.message} (have ${seqs(sub).size})\n${agent.output().slice(-3000)}`)
        })
      t.same(
        [...seqs(sub)].sort((a, b) => a - b),
        Array.from({ length: frames }, (_, i) => i + 1),
        `all ${frames} stored and delivered`,
      )
      t.notMatch(agent.output(), /refused|dropped|degraded/, 'nothing refused or dropped')
      t.same(
        statuses(sub).map((s) => s.state),
        ['online'],
        'status: online, never degraded',
      )
      agent.signal('SIGTERM')
      t.equal(await agent.exited, 0)
    },
  )
}

t.test(
  'below the floor: status degraded with the reason while frames are refused, online again once there is room',
  { skip },
  async (t) => {
    const disk = mountTmpfs(t, '64m') // floor: 5 % = 3.2 MB
    const broker = await startMosquitto()
    t.teardown(() => broker.stop())
    const sub = await subscribe(broker.url, ['deepn/floor-status/frames', 'deepn/floor-status/status'])
    t.teardown(() => sub.close())
    const cfg = config(broker.url, join(disk, 'buffer.db'), 'floor-status', { policy: 'reject-new' }, 0)
    const agent = spawnAgent(writeConfig(agentDir(), { ...cfg, capture: { width: 64, height: 48, intervalMs: 100 } }))
    t.teardown(() => agent.signal('SIGKILL'))
    await sub.waitFor(() => seqs(sub).size >= 10, 30000, 'first frames')
    t.equal(statuses(sub).at(-1)?.state, 'online')

    fillDisk(disk, 1024 * 1024) // another process leaves 1 MB free, below the floor
    await sub
      .waitFor(() => statuses(sub).at(-1)?.state === 'degraded', 30000, 'status degraded')
      .catch((e) => {
        throw new Error(`${e.message}\n${agent.output().slice(-3000)}`)
      })
    const degraded = statuses(sub).at(-1)!
    t.match(
      degraded,
      {
        state: 'degraded',
        deviceId: 'floor-status',
        reason: /bytes free on the buffer's filesystem \(buffer\.minFreePercent\): new frames refused \(reject-new\)/,
      },
      String(degraded.reason),
    )
    const retained = await subscribe(broker.url, ['deepn/floor-status/status'])
    t.teardown(() => retained.close())
    await retained.waitFor(() => retained.messages.length > 0, 10000, 'the retained status')
    t.match(
      JSON.parse(retained.messages[0].payload.toString()),
      { state: 'degraded' },
      'retained for a late subscriber',
    )
    t.ok(retained.messages[0].retain)

    fs.rmSync(join(disk, 'filler'))
    const before = seqs(sub).size
    await sub.waitFor(() => statuses(sub).at(-1)?.state === 'online', 30000, 'status online again')
    await sub.waitFor(() => seqs(sub).size >= before + 10, 30000, 'frames flowing again')
    t.same(
      statuses(sub).map((s) => s.state),
      ['online', 'degraded', 'online'],
      'one change each way, no flapping',
    )
    t.match(agent.output(), /frame refused: less than \d+ bytes free/, 'the refusals are logged with the reason')
    agent.signal('SIGTERM')
    t.equal(await agent.exited, 0)
    await sub.waitFor(() => statuses(sub).at(-1)?.state === 'offline', 10000, 'offline on stop')
  },
)

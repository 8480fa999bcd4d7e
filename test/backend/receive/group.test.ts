/**
 * `deepn receive --group`: three receiver processes (the built CLI) share one simulated fleet's frames through an
 * MQTT shared subscription on a real Mosquitto and write one dataset folder. One member is SIGKILLed mid-run.
 *
 * What Mosquitto 2.0 really does then (asserted here): the killed member's persistent session stays in the group,
 * so the broker keeps handing it its share (plus the frames it had in flight) and queues them for it; the other
 * members keep storing theirs. Restarted with the same client id, the member gets its queue and the folder is
 * complete: every frame on disk once, one index line each, and the acks (from whichever member) reach the last seq.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import mqtt from 'mqtt'
import t from 'tap'
import { startFleet } from '../../../scripts/backend/simulate/fleet'
import { startMosquitto } from '../../helpers/mosquitto'
import { framesOnDisk, indexSeqs, range } from './helpers/disk'
import { ReceiverProcess } from './helpers/receiver-process'
import { sleep, waitFor } from './helpers/sim-agent'

const DEVICES = 4
const FRAMES = 60
const GROUP = 'fleet-a'

/** Frames a member stored, from the summary it prints at exit ("<device>: N stored this run"). */
function storedBy(rx: ReceiverProcess): number {
  return [...rx.stderr.matchAll(/: (\d+) stored this run/g)].reduce((n, m) => n + Number(m[1]), 0)
}

t.test(
  'three receivers in one group: each frame stored once, acks complete, a killed member loses nothing',
  async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'deepn-receive-group-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const out = path.join(dir, 'dataset')
    const broker = await startMosquitto({ extraConfig: ['max_queued_messages 100000'] })
    t.teardown(() => broker.stop())

    const member = (n: number): ReceiverProcess => {
      const rx = new ReceiverProcess([
        '--url',
        broker.url,
        '--out',
        out,
        '--group',
        GROUP,
        '--client-id',
        `group-member-${n}`,
        '--ack',
        '--ack-interval',
        '100',
        '--summary',
        '0',
      ])
      t.teardown(() => rx.kill('SIGKILL'))
      return rx
    }
    const members = [member(1), member(2), member(3)]
    for (const rx of members)
      await rx.waitForOutput(`subscribed to $share/${GROUP}/deepn/+/frames, deepn/+/events/loss`)

    const acks = new Map<string, number>()
    const listener = await mqtt.connectAsync(broker.url, { clientId: 'group-ack-listener' })
    t.teardown(() => listener.endAsync(true))
    listener.on('message', (topic, payload) => {
      const device = topic.split('/')[1]
      acks.set(device, Math.max(acks.get(device) ?? 0, (JSON.parse(payload.toString()) as { seq: number }).seq))
    })
    await listener.subscribeAsync('deepn/+/ack', { qos: 1 })

    const fleet = await startFleet({
      url: broker.url,
      devices: DEVICES,
      fps: 10,
      width: 64,
      height: 48,
      framesPerDevice: FRAMES,
    })
    const total = () => fleet.deviceIds.reduce((n, id) => n + framesOnDisk(out, id).size, 0)
    await waitFor(() => total() >= 40, 30000, 'the group to store 40 frames')
    const killed = await members[2].kill('SIGKILL')
    t.equal(killed.signal, 'SIGKILL', 'member 3 killed mid-run')
    const atKill = total()

    const stats = await fleet.done
    t.equal(stats.acknowledged, DEVICES * FRAMES, 'the broker took every frame')
    // Members 1 and 2 go on storing their share; member 3's stays queued at the broker for its session.
    await waitFor(() => total() > atKill + 40, 30000, 'the other members to keep storing')
    await sleep(1500)
    const withoutMember3 = total()
    t.ok(withoutMember3 < DEVICES * FRAMES, `member 3's share waits for it (${withoutMember3} of ${DEVICES * FRAMES})`)

    const restarted = member(3)
    await restarted.waitForOutput('session resumed')
    await waitFor(() => total() === DEVICES * FRAMES, 60000, 'every frame on disk after member 3 is back')
    await waitFor(
      () => fleet.deviceIds.every((id) => acks.get(id) === FRAMES),
      15000,
      `acks through seq ${FRAMES} for every device`,
    )

    for (const id of fleet.deviceIds) {
      const files = framesOnDisk(out, id)
      t.same(
        [...files.keys()].sort((a, b) => a - b),
        range(1, FRAMES),
        `${id}: seqs 1..${FRAMES} on disk`,
      )
      t.ok(
        [...files.values()].every((f) => f.length === 1),
        `${id}: each seq in one file`,
      )
      t.same(
        indexSeqs(out, id).sort((a, b) => a - b),
        range(1, FRAMES),
        `${id}: one index line per frame`,
      )
    }

    const exits = await Promise.all([members[0], members[1], restarted].map((rx) => rx.kill('SIGTERM')))
    t.same(
      exits.map((e) => e.code),
      [0, 0, 0],
      'members exit cleanly',
    )
    const shares = [members[0], members[1], restarted].map(storedBy)
    t.ok(
      shares.every((n) => n > 0),
      `every member stored a share: ${shares.join(', ')}`,
    )
    // Member 3's first run stored some and was killed before its summary: the rest add up to at most the total.
    t.ok(shares.reduce((a, b) => a + b, 0) <= DEVICES * FRAMES, 'no frame counted as stored twice')
    for (const rx of [members[0], members[1], restarted])
      t.match(rx.stderr, /no gaps/, "gaps are the folder's, not the member's share")
    t.notMatch(members[0].stderr, / \d+ gaps \(/, 'member 1 reports no gaps for seqs the others stored')
  },
)

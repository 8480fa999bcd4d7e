/**
 * Frames lost to buffer damage found at start-up must be announced where the backend sees them.
 * The real agent, a real Mosquitto, real SQLite files damaged on disk, and the real receiver (`deepn receive`,
 * in-process): a corrupt file moved aside with unsent frames, and a -wal truncated under a backlog. The loss
 * must come out as a retained `events/loss` event (lost range, skipped range, resume seq) and in telemetry,
 * survive a crash before the agent ever connected, and the receiver must report the ranges as lost instead of
 * as open gaps.
 */
import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { readJpegMetadata } from '../../shared/codec/metadata'
import type { BufferLossMessage } from '../../shared/contract/topics'
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto'
import { subscribe, type Subscriber } from '../helpers/subscriber'
import { agentDir, spawnAgent, writeConfig, type AgentProcess } from '../helpers/agent-process'
import { startReceiver } from '../../scripts/backend/receive/receiver'
import { cannotMountTmpfs, mountTmpfs } from '../helpers/tmpfs'
import { bufferedSeqs } from '../helpers/buffer-file'

const seqOf = (p: Buffer): number => readJpegMetadata(new Uint8Array(p))!.seq as number
const seqs = (sub: Subscriber): Set<number> => new Set(sub.on('frames').map((m) => seqOf(m.payload)))

function config(url: string, dir: string, deviceId: string): Record<string, unknown> {
  return {
    deviceId,
    mqtt: { url, reconnectMinMs: 100, reconnectMaxMs: 300 },
    capture: { width: 64, height: 48, intervalMs: 25 },
    buffer: { path: join(dir, 'buffer.db') },
    telemetry: { intervalMs: 1000 },
    log: { level: 'info' },
  }
}

/** Runs the agent with the broker down until `n` frames are buffered, then kills it: a backlog left on disk. */
async function backlogThenKill(broker: Mosquitto, cfg: string, db: string, n: number): Promise<number[]> {
  await broker.stop()
  const agent = spawnAgent(cfg)
  // the file can exist before the agent has created its tables: not ready yet, not an error (and the agent must
  // always be killed, or the test hangs on it)
  const buffered = (): number => {
    try {
      return bufferedSeqs(db).length
    } catch {
      return 0
    }
  }
  const deadline = Date.now() + 30000
  while ((!fs.existsSync(db) || buffered() < n) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  agent.signal('SIGKILL')
  await agent.exited
  return bufferedSeqs(db)
}

async function startRx(t: Test, url: string): Promise<Awaited<ReturnType<typeof startReceiver>>> {
  const out = mkdtempSync(join(tmpdir(), 'deepn-loss-rx-'))
  t.teardown(() => rmSync(out, { recursive: true, force: true }))
  const rx = await startReceiver({
    url,
    out,
    clientId: `rx-${Math.random().toString(16).slice(2)}`,
    summaryIntervalMs: 0,
    log: () => {},
  })
  // Bounded: after a failure the broker may be down, and the test must end rather than wait for it.
  t.teardown(() => Promise.race([rx.close(), new Promise((r) => setTimeout(r, 3000))]))
  await rx.subscribed
  return rx
}

t.test(
  'corrupt file with unsent frames: announced on events/loss (retained), even after a crash before connecting',
  async (t) => {
    const broker = await startMosquitto({ persistence: true })
    t.teardown(() => broker.stop())
    const dir = agentDir()
    const db = join(dir, 'buffer.db')
    const cfg = writeConfig(dir, config(broker.url, dir, 'corrupt'))
    const rx = await startRx(t, broker.url)
    const sub = await subscribe(broker.url, ['deepn/corrupt/frames'], { persistent: true })
    t.teardown(() => sub.close())

    // Round 1: frames delivered, then a backlog left behind by a kill.
    let agent: AgentProcess = spawnAgent(cfg)
    await sub.waitFor(() => seqs(sub).size >= 10, 30000, 'first frames')
    agent.signal('SIGKILL')
    await agent.exited
    const backlog = await backlogThenKill(broker, cfg, db, 20)
    t.ok(backlog.length >= 20, `${backlog.length} unsent frames (${backlog[0]}..${backlog.at(-1)})`)

    // Damage: the index's root page overwritten. The rows stay readable, quick_check fails.
    const rw = new Database(db)
    rw.pragma('wal_checkpoint(TRUNCATE)')
    const root = (
      rw.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'frames_by_capture'").get() as { rootpage: number }
    ).rootpage
    const pageSize = rw.pragma('page_size', { simple: true }) as number
    rw.close()
    const fd = fs.openSync(db, 'r+')
    fs.writeSync(fd, Buffer.alloc(pageSize, 0x5a), 0, pageSize, (root - 1) * pageSize)
    fs.closeSync(fd)

    // Round 2: the broker still down; the agent finds the damage and is killed before it ever connects.
    agent = spawnAgent(cfg)
    await agent.waitForOutput(/buffer corrupt-database: [\s\S]*seqs resume at 1025/)
    agent.signal('SIGKILL')
    await agent.exited

    // Round 3: the broker back: the loss is announced, retained; telemetry counts it.
    await broker.start()
    const events = await subscribe(broker.url, ['deepn/corrupt/events/loss', 'deepn/corrupt/telemetry'])
    t.teardown(() => events.close())
    agent = spawnAgent(cfg)
    t.teardown(() => agent.signal('SIGKILL'))
    await events
      .waitFor(() => events.on('events/loss').length > 0, 30000, 'the loss event')
      .catch((e) => {
        throw new Error(`${e.message}\n${agent.output().slice(-3000)}`)
      })
    const loss = JSON.parse(events.on('events/loss')[0].payload.toString()) as BufferLossMessage
    const last = backlog.at(-1)!
    t.match(
      loss,
      {
        deviceId: 'corrupt',
        cause: 'corrupt-database',
        detail: /quick_check/,
        lost: { from: backlog[0], to: last, frames: backlog.length },
        skipped: { from: last + 1, to: 1024 },
        resumesAt: 1025,
      },
      JSON.stringify(loss),
    )
    t.match(loss.movedTo?.[0], /buffer\.db\.corrupt-/, 'names where the damaged file went')
    await events.waitFor(() => events.on('telemetry').length > 0, 10000, 'telemetry')
    const tele = JSON.parse(events.on('telemetry')[0].payload.toString())
    t.match(
      tele.counters,
      { bufferRecoveries: 1, lostFrames: backlog.length },
      'telemetry counts the recovery and the lost frames',
    )
    t.match(tele.lastError?.message, /corrupt-database/)
    const late = await subscribe(broker.url, ['deepn/corrupt/events/loss'])
    t.teardown(() => late.close())
    await late.waitFor(() => late.messages.length > 0, 10000, 'retained loss event')
    t.ok(late.messages[0].retain, 'retained for a backend that connects later')

    // New frames resume at 1025; the receiver reports the unsent frames as lost, not as a gap to wait for.
    await sub.waitFor(() => [...seqs(sub)].some((s) => s >= 1030), 30000, 'frames after the recovery')
    t.ok(
      [...seqs(sub)].every((s) => s <= last || s >= 1025),
      'no seq between the lost frames and 1025 was used',
    )
    await new Promise<void>((resolve) => {
      const check = (): void => {
        const d = rx.snapshot().devices.find((x) => x.deviceId === 'corrupt')
        if (d?.lost.length && (d.lastSeq ?? 0) >= 1030) resolve()
        else setTimeout(check, 50)
      }
      check()
    })
    const dev = rx.snapshot().devices.find((x) => x.deviceId === 'corrupt')!
    t.same(dev.gaps, [], 'no open gap: nothing to wait for')
    const reportedLost = dev.lost.flatMap((g) => Array.from({ length: g.to - g.from + 1 }, (_, i) => g.from + i))
    t.same(
      reportedLost,
      backlog.filter((s) => !seqs(sub).has(s)),
      'exactly the unsent frames are reported lost for good',
    )
    t.ok(dev.lost.every((g) => g.kind === 'lost' && g.cause === 'corrupt-database'))
    t.equal(dev.skipped, 1024 - last, 'the unused rest of the lease block is reported as never used')
    agent.signal('SIGTERM')
    t.equal(await agent.exited, 0)
    t.same(
      JSON.parse(
        new Database(db, { readonly: true })
          .prepare("SELECT value FROM state WHERE key = 'loss.pending'")
          .pluck()
          .get() as string,
      ),
      [],
      'settled once the broker acknowledged it',
    )
  },
)

t.test('-wal truncated under a backlog: the database-lost event says which seqs will never come', async (t) => {
  const broker = await startMosquitto({ persistence: true })
  t.teardown(() => broker.stop())
  const dir = agentDir()
  const db = join(dir, 'buffer.db')
  const cfg = writeConfig(dir, config(broker.url, dir, 'walcut'))
  const rx = await startRx(t, broker.url)
  const sub = await subscribe(broker.url, ['deepn/walcut/frames', 'deepn/walcut/events/loss'], { persistent: true })
  t.teardown(() => sub.close())
  let agent = spawnAgent(cfg)
  await sub.waitFor(() => seqs(sub).size >= 10, 30000, 'first frames')
  agent.signal('SIGKILL')
  await agent.exited
  const backlog = await backlogThenKill(broker, cfg, db, 20)
  t.ok(backlog.length >= 20, `${backlog.length} unsent frames`)
  fs.truncateSync(`${db}-wal`, 0) // everything since the database was created was in the WAL

  await broker.start()
  agent = spawnAgent(cfg)
  t.teardown(() => agent.signal('SIGKILL'))
  await sub
    .waitFor(() => sub.on('events/loss').length > 0, 30000, 'the loss event')
    .catch((e) => {
      throw new Error(`${e.message}\n${agent.output().slice(-3000)}`)
    })
  const loss = JSON.parse(sub.on('events/loss')[0].payload.toString()) as BufferLossMessage
  t.match(
    loss,
    { deviceId: 'walcut', cause: 'database-lost', unknown: { from: 1, to: 1024 }, resumesAt: 1025 },
    JSON.stringify(loss),
  )
  await sub.waitFor(() => [...seqs(sub)].some((s) => s >= 1030), 30000, 'frames after the recovery')
  await new Promise<void>((resolve) => {
    const check = (): void => {
      const d = rx.snapshot().devices.find((x) => x.deviceId === 'walcut')
      if (d?.lost.length && (d.lastSeq ?? 0) >= 1030) resolve()
      else setTimeout(check, 50)
    }
    check()
  })
  const dev = rx.snapshot().devices.find((x) => x.deviceId === 'walcut')!
  t.same(dev.gaps, [], 'no open gap')
  const delivered = Math.max(...[...seqs(sub)].filter((s) => s < 1025))
  t.match(
    dev.lost,
    [{ from: delivered + 1, to: 1024, kind: 'unknown', cause: 'database-lost' }],
    'the rest up to 1024 is lost or never used, not waited for',
  )
  const undelivered = backlog.filter((s) => !seqs(sub).has(s))
  t.ok(
    undelivered.length >= 10 && undelivered.every((s) => s > delivered && s <= 1024),
    `the ${undelivered.length} undelivered backlog frames are inside that range`,
  )
  agent.signal('SIGTERM')
  t.equal(await agent.exited, 0)
})

t.test(
  '-wal cut short after checkpoints: no seq is reused, the cut-off ones are announced',
  { skip: cannotMountTmpfs() },
  async (t) => {
    // A 3 MB disk: the WAL is checkpointed every ~96 KB, so the database file holds an older seq record and only
    // the latest commits are in the WAL. Cutting the WAL loses those commits without SQLite noticing.
    const disk = mountTmpfs(t, '3m')
    const broker = await startMosquitto({ persistence: true })
    t.teardown(() => broker.stop())
    const dir = agentDir()
    const db = join(disk, 'buffer.db')
    const cfg = writeConfig(dir, { ...config(broker.url, dir, 'walcut2'), buffer: { path: db } })
    const sub = await subscribe(broker.url, ['deepn/walcut2/frames', 'deepn/walcut2/events/loss'], { persistent: true })
    t.teardown(() => sub.close())
    const cutAt = 32 + 4120 + 1000 // the WAL header, one frame and part of the next
    // Killed right after a checkpoint, the WAL holds no commits to lose: try the cut on a copy first, and let the
    // agent buffer a few more frames until it would lose some.
    let backlog: number[] = []
    let cut: number[] = []
    for (let round = 1; round <= 5 && cut.length === 0; round++) {
      backlog = await backlogThenKill(broker, cfg, db, 60 * round)
      const copy = mkdtempSync(join(tmpdir(), 'deepn-walcut-'))
      fs.copyFileSync(db, join(copy, 'b.db'))
      fs.copyFileSync(`${db}-wal`, join(copy, 'b.db-wal'))
      fs.truncateSync(join(copy, 'b.db-wal'), cutAt)
      const kept = bufferedSeqs(join(copy, 'b.db'))
      rmSync(copy, { recursive: true, force: true })
      cut = backlog.filter((s) => !kept.includes(s))
    }
    const walSize = fs.statSync(`${db}-wal`).size
    t.ok(walSize > cutAt, `${backlog.length} frames buffered, ${walSize}-byte WAL`)
    fs.truncateSync(`${db}-wal`, cutAt)
    const survived = bufferedSeqs(db)
    t.same(
      backlog.filter((s) => !survived.includes(s)),
      cut,
    )
    t.ok(
      cut.length > 0,
      `the cut lost ${cut.length} committed frames (${cut[0]}..${cut.at(-1)}); ${survived.length} survive`,
    )

    await broker.start()
    const agent = spawnAgent(cfg)
    t.teardown(() => agent.signal('SIGKILL'))
    await sub
      .waitFor(
        () => sub.on('events/loss').length > 0 && [...seqs(sub)].some((s) => s > 1024),
        30000,
        'the loss event and new frames',
      )
      .catch((e) => {
        throw new Error(`${e.message}\n${agent.output().slice(-3000)}`)
      })
    const loss = JSON.parse(sub.on('events/loss')[0].payload.toString()) as BufferLossMessage
    t.match(
      loss,
      {
        cause: 'database-lost',
        detail: /-wal ends \d+ bytes into a frame/,
        unknown: { from: Math.max(0, ...survived) + 1, to: 1024 },
        resumesAt: 1025,
      },
      JSON.stringify(loss),
    )
    t.ok(
      cut.every((s) => s >= loss.unknown!.from && s <= loss.unknown!.to),
      'every cut-off seq is inside the announced range',
    )
    await sub.waitFor(() => survived.every((s) => seqs(sub).has(s)), 30000, 'the surviving backlog')
    const published = [...seqs(sub)]
    t.ok(
      published.every((s) => survived.includes(s) || s >= 1025),
      'no cut-off seq was handed to a new frame',
    )
    agent.signal('SIGTERM')
    t.equal(await agent.exited, 0)
  },
)

/**
 * A frame that cannot be written is not acknowledged: the receiver keeps its session, says what is wrong with the
 * disk (not "broker unreachable") and retries the write until the problem is fixed; then the frame is stored once.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import t from 'tap'
import { startReceiver } from '../../../scripts/backend/receive/receiver'
import { startMosquitto } from '../../helpers/mosquitto'
import { framesOnDisk } from './helpers/disk'
import { frameOfLine, indexLines } from './helpers/frame-store-suite'
import { readJpegMetadata } from '../../../shared/codec/metadata'
import { SimAgent, sleep, waitFor } from './helpers/sim-agent'
import { cannotMountTmpfs } from '../../helpers/tmpfs'

t.test('write error → no PUBACK → write retried → stored once the folder is usable', async (t) => {
  const out = mkdtempSync(path.join(tmpdir(), 'deepn-receive-'))
  t.teardown(() => rmSync(out, { recursive: true, force: true }))
  // A plain file where the device's folder must go: every write for cam-w fails (ENOTDIR/EEXIST).
  writeFileSync(path.join(out, 'cam-w'), 'in the way')
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const lines: string[] = []
  const rx = await startReceiver({
    url: broker.url,
    out,
    clientId: 'rx-wfail',
    summaryIntervalMs: 0,
    storeRetryMaxMs: 1000,
    log: (l) => lines.push(l),
  })
  t.teardown(() => rx.close())
  await rx.subscribed
  const cam = new SimAgent(broker.url, 'cam-w')
  t.teardown(() => cam.close())
  await cam.send(1)
  await waitFor(() => rx.snapshot().writeErrors >= 2, 10000, 'the write to fail twice (retried)')
  t.match(
    lines.join('\n'),
    /error: cannot write .*cam-w\S*: (already exists|not a directory); cam-w seq 1 stays unacknowledged at the broker, retrying the write/,
  )
  t.equal(
    rx.snapshot().devices.find((d) => d.deviceId === 'cam-w'),
    undefined,
    'nothing counted as stored',
  )
  rmSync(path.join(out, 'cam-w'))
  await waitFor(
    () => (rx.snapshot().devices.find((d) => d.deviceId === 'cam-w')?.frames ?? 0) >= 1,
    15000,
    'the redelivered frame to be stored and counted',
  )
  await sleep(300)
  t.same([...framesOnDisk(out, 'cam-w').keys()], [1])
  t.equal(rx.snapshot().devices.find((d) => d.deviceId === 'cam-w')?.frames, 1)
})

for (const layout of ['folders', 'shards'] as const)
  t.test(
    `a full disk (${layout}): says so naming the folder, keeps the session past keepalive, stores once space returns`,
    { skip: cannotMountTmpfs() },
    async (t) => {
      const out = mkdtempSync(path.join(tmpdir(), 'deepn-receive-full-'))
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', out], { stdio: 'pipe' })
      t.teardown(() => {
        execFileSync('umount', ['-l', out])
        rmSync(out, { recursive: true, force: true })
      })
      const broker = await startMosquitto()
      t.teardown(() => broker.stop())
      const lines: string[] = []
      // keepalive 1 s: the hold below lasts several keepalive periods, which used to drop the connection
      const rx = await startReceiver({
        url: broker.url,
        out,
        layout,
        clientId: 'rx-full',
        summaryIntervalMs: 0,
        keepaliveSec: 1,
        storeRetryMaxMs: 400,
        log: (l) => lines.push(l),
      })
      t.teardown(() => rx.close())
      await rx.subscribed
      const filler = path.join(out, 'filler')
      let n = 0
      try {
        for (; ; n++) writeFileSync(`${filler}-${n}`, Buffer.alloc(4096, 1))
      } catch (err) {
        t.equal((err as NodeJS.ErrnoException).code, 'ENOSPC', 'disk filled')
      }
      const cam = new SimAgent(broker.url, 'cam-f')
      t.teardown(() => cam.close())
      await cam.send(1)
      await waitFor(() => /disk full: no space left in .*cam-f/.test(lines.join('\n')), 10000, 'the disk-full message')
      t.match(
        lines.join('\n'),
        new RegExp(
          `error: disk full: no space left in ${out}/cam-f.*; cam-f seq 1 stays unacknowledged at the broker, retrying the write`,
        ),
      )
      await waitFor(
        () => rx.snapshot().writeErrors >= 10,
        15000,
        'ten failed writes (about 4 s, four keepalive periods)',
      )
      t.equal(lines.filter((l) => /disk full/.test(l)).length, 1, 'said once, not at every retry')
      for (let i = 0; i < n; i++) unlinkSync(`${filler}-${i}`)
      // The file appears at its rename; the receiver counts (and logs) it once its folder and index line are synced.
      const counted = () => rx.snapshot().devices.find((d) => d.deviceId === 'cam-f')?.frames
      await waitFor(() => (counted() ?? 0) >= 1, 10000, 'the frame to be stored once space returned')
      t.equal(counted(), 1, 'stored once')
      if (layout === 'folders') t.equal(framesOnDisk(out, 'cam-f').size, 1, 'one file')
      const [line, ...more] = indexLines(out, 'cam-f')
      t.same(more, [], 'one index line')
      t.equal(readJpegMetadata(await frameOfLine(out, 'cam-f', line))?.seq, 1, 'the frame is where its line says')
      const log = lines.join('\n')
      t.notMatch(log, /unreachable|Keepalive timeout|not acknowledging/, 'no reconnect: the broker was never blamed')
      t.equal(lines.filter((l) => /connected to/.test(l)).length, 1, 'one connection, the session kept')
      t.match(log, /cam-f seq 1 stored after \d+ failed write\(s\)/)
      t.same(
        readdirSync(out).filter((f) => f.startsWith('.tmp-')),
        [],
        'no temp files left',
      )
    },
  )

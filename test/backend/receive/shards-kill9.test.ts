/**
 * The shards layout keeps the receiver's promise (kill9-durability.test.ts for the folders layout): `deepn receive
 * --layout shards` is SIGKILLed mid-stream; whatever the broker does not redeliver to the resumed session, it was
 * told was stored, and must be readable where its index line says. Then what a power cut may take on top (every
 * index line, never synced; a torn batch at the shard's end) is taken, and the restarted receiver must give every
 * acknowledged frame its line back, leave shards GNU tar reads, and store no frame twice. (The check itself
 * resumes the receiver's session, so the frames it is resent are acknowledged to the broker by the check.)
 */
import { spawnSync } from 'node:child_process'
import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import mqtt from 'mqtt'
import t from 'tap'
import { publishInSteps, stampedFrames, unacknowledgedSeqs } from './helpers/mid-stream'
import { tarHeader } from '../../../scripts/backend/receive/tar'
import { startMosquitto } from '../../helpers/mosquitto'
import { range } from './helpers/disk'
import { frameOfLine, indexLines } from './helpers/frame-store-suite'
import { ReceiverProcess } from './helpers/receiver-process'
import { waitFor } from './helpers/sim-agent'

const N = 2000
const CLIENT_ID = 'receiver-shards-kill9'

t.test('SIGKILL mid-stream, then a power cut: every acknowledged frame stays, once', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepn-shards-kill9-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const out = path.join(dir, 'dataset')
  const broker = await startMosquitto({ extraConfig: ['max_queued_messages 100000'] })
  t.teardown(() => broker.stop())
  const args = ['--url', broker.url, '--out', out, '--layout', 'shards', '--client-id', CLIENT_ID, '--summary', '0']
  const rx = new ReceiverProcess(args)
  t.teardown(() => rx.kill('SIGKILL'))
  await rx.waitForOutput('subscribed to deepn/+/frames')

  const pub = await mqtt.connectAsync(broker.url, { clientId: 'shards-kill9-publisher' })
  t.teardown(() => pub.endAsync(true))
  const frames = stampedFrames('cam-k', N)
  const published = publishInSteps(pub, 'deepn/cam-k/frames', frames)
  const lineCount = () => {
    try {
      return indexLines(out, 'cam-k').length
    } catch {
      return 0
    }
  }
  await waitFor(() => lineCount() >= 60, 30000, 'the receiver to store 60 frames')
  t.equal((await rx.kill('SIGKILL')).signal, 'SIGKILL', 'killed mid-stream')
  published.hurry()
  await published.done
  const lines = indexLines(out, 'cam-k')
  t.ok(lines.length < N, `killed before the end (${lines.length} of ${N} indexed)`)

  const { seqs: redelivered } = await unacknowledgedSeqs(pub, broker.url, CLIENT_ID)
  const acknowledged = range(1, N).filter((seq) => !redelivered.has(seq))
  t.ok(acknowledged.length > 0 && redelivered.size > 0, `${acknowledged.length} acknowledged, ${redelivered.size} not`)
  const bySeq = new Map(lines.map((l) => [l.seq as number, l]))
  const unreadable: number[] = []
  for (const seq of acknowledged) {
    const line = bySeq.get(seq)
    if (!line || !(await frameOfLine(out, 'cam-k', line)).equals(frames[seq - 1])) unreadable.push(seq)
  }
  t.same(unreadable, [], 'every acknowledged frame has its line, and its bytes are where the line says')

  // The power cut: no index line was synced (a shard's are synced when it ends), and a batch was torn mid-write.
  writeFileSync(path.join(out, 'cam-k', 'index.jsonl'), '')
  const shardDir = path.join(out, 'cam-k', 'shards')
  const shards = () =>
    readdirSync(shardDir)
      .sort()
      .map((n) => path.join(shardDir, n))
  appendFileSync(shards().at(-1)!, Buffer.concat([tarHeader('000000999999.jpg', 9000, 0), Buffer.alloc(1000, 7)]))

  const restarted = new ReceiverProcess(args)
  t.teardown(() => restarted.kill('SIGKILL'))
  await restarted.waitForOutput('session resumed')
  t.equal((await restarted.kill('SIGTERM')).code, 0, 'the restarted receiver stops cleanly')

  const after = indexLines(out, 'cam-k')
  const counts = new Map<number, number>()
  for (const l of after) counts.set(l.seq as number, (counts.get(l.seq as number) ?? 0) + 1)
  t.same(
    acknowledged.filter((seq) => counts.get(seq) !== 1),
    [],
    'every acknowledged frame has one index line',
  )
  t.same(
    [...counts].filter(([, n]) => n !== 1),
    [],
    'no line twice',
  )
  const wrong: number[] = []
  for (const l of after)
    if (!(await frameOfLine(out, 'cam-k', l)).equals(frames[(l.seq as number) - 1])) wrong.push(l.seq as number)
  t.same(wrong, [], 'byte-identical to what was published')
  const members: string[] = []
  for (const shard of shards()) {
    const r = spawnSync('tar', ['-tf', shard], { encoding: 'utf8' })
    t.equal(`${r.status} ${r.stderr}`, '0 ', `tar reads ${path.basename(shard)} without a complaint`)
    members.push(...r.stdout.split('\n').filter((n) => n.endsWith('.jpg')))
  }
  t.equal(members.length, after.length, 'one frame in the shards per index line')
  t.equal(new Set(members).size, members.length, 'no frame stored twice in the shards')
})

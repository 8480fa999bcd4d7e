/**
 * No PUBACK before a frame is durable, with frames written concurrently: `deepn receive` (the built CLI) is
 * SIGKILLed while frames stream in; then the broker's view is read back by resuming the receiver's session with a
 * plain client: whatever it does not redeliver, it was told was stored, and must be on disk with its index line —
 * read before any receiver restart could repair the index. Then a power cut is played on top (every frame file and
 * the index, never synced, lost) and the receiver restarted: its journal must bring every acknowledged frame back.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import mqtt from 'mqtt'
import t from 'tap'
import { publishInSteps, stampedFrames, unacknowledgedSeqs } from './helpers/mid-stream'
import { startMosquitto } from '../../helpers/mosquitto'
import { framesOnDisk, indexSeqs, range } from './helpers/disk'
import { ReceiverProcess } from './helpers/receiver-process'
import { waitFor } from './helpers/sim-agent'
import { decodeSegment, segmentFiles } from '../../../scripts/backend/receive/journal'
import { JOURNAL_DIR } from '../../../scripts/backend/receive/dataset'

const N = 2000
const CLIENT_ID = 'receiver-kill9'

t.test('SIGKILL mid-stream: every frame the broker considers delivered is on disk with its index line', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepn-receive-kill9-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const out = path.join(dir, 'dataset')
  const broker = await startMosquitto({ extraConfig: ['max_queued_messages 100000'] })
  t.teardown(() => broker.stop())
  const rx = new ReceiverProcess(['--url', broker.url, '--out', out, '--client-id', CLIENT_ID, '--summary', '0'])
  t.teardown(() => rx.kill('SIGKILL'))
  await rx.waitForOutput('subscribed to deepn/+/frames')

  const pub = await mqtt.connectAsync(broker.url, { clientId: 'kill9-publisher' })
  t.teardown(() => pub.endAsync(true))
  const frames = stampedFrames('cam-k', N)
  const published = publishInSteps(pub, 'deepn/cam-k/frames', frames)
  // An index line is written once its frame is durable, just before the PUBACK.
  await waitFor(() => indexSeqs(out, 'cam-k').length >= 60, 30000, 'the receiver to store 60 frames')
  const exit = await rx.kill('SIGKILL')
  published.hurry()
  t.equal(exit.signal, 'SIGKILL', 'killed mid-stream')
  await published.done // every frame is at the broker, queued for the receiver's session or in flight to it
  const onDisk = framesOnDisk(out, 'cam-k')
  const indexed = new Set(indexSeqs(out, 'cam-k'))
  t.ok(indexed.size < N, `killed before the end (${indexed.size} of ${N} indexed)`)

  // The receiver's session, resumed: the broker resends what was never acknowledged, then the queue, then the marker.
  const { seqs: redelivered, sessionPresent } = await unacknowledgedSeqs(pub, broker.url, CLIENT_ID)
  t.ok(sessionPresent, "the receiver's session was resumed")

  const acknowledged = range(1, N).filter((seq) => !redelivered.has(seq))
  t.ok(acknowledged.length > 0, `${acknowledged.length} frames acknowledged before the kill`)
  t.ok(redelivered.size > 0, `${redelivered.size} frames left unacknowledged by the kill`)
  t.same(
    acknowledged.filter((seq) => !onDisk.has(seq)),
    [],
    'every acknowledged frame has its file',
  )
  t.same(
    acknowledged.filter((seq) => !indexed.has(seq)),
    [],
    'every acknowledged frame has its index line',
  )

  // A power cut on top: nothing the receiver wrote is synced but its journal (frames and index lines are synced
  // only at a checkpoint, once 64 MB are journaled: not with these frames). All of it lost, the restart must
  // rewrite every acknowledged frame and its index line from the journal.
  const journal = path.join(out, JOURNAL_DIR, CLIENT_ID)
  const journaled = new Set<number>()
  for (const segment of await segmentFiles(journal))
    for (const r of decodeSegment(readFileSync(segment))) journaled.add(Number(/(\d+)\.jpg$/.exec(r.file)![1]))
  t.same(
    acknowledged.filter((seq) => !journaled.has(seq)),
    [],
    'every acknowledged frame is in the journal',
  )
  for (const files of onDisk.values()) for (const f of files) rmSync(f)
  writeFileSync(path.join(out, 'cam-k', 'index.jsonl'), '')
  const restarted = new ReceiverProcess(['--url', broker.url, '--out', out, '--client-id', CLIENT_ID, '--summary', '0'])
  t.teardown(() => restarted.kill('SIGKILL'))
  await restarted.waitForOutput('session resumed')
  t.equal((await restarted.kill('SIGTERM')).code, 0, 'the restarted receiver stops cleanly')
  const restored = framesOnDisk(out, 'cam-k')
  t.same(
    acknowledged.filter((seq) => restored.get(seq)?.length !== 1),
    [],
    'every acknowledged frame is back, once',
  )
  t.same(
    acknowledged.filter((seq) => {
      const file = restored.get(seq)?.[0]
      return file === undefined || !readFileSync(file).equals(frames[seq - 1])
    }),
    [],
    'byte-identical to what was published',
  )
  const lines = indexSeqs(out, 'cam-k')
  t.same(
    acknowledged.filter((seq) => lines.filter((s) => s === seq).length !== 1),
    [],
    'every acknowledged frame has one index line',
  )
  t.same(await segmentFiles(journal), [], 'the journal is empty after a clean stop')
})

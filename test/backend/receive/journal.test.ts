/**
 * The receiver's write-ahead journal (scripts/backend/receive/journal.ts): a stored frame is durable once its
 * journal batch is synced; its file and index line are written but not synced. These tests play a power cut the
 * way it can go worst — everything not synced is gone or garbage — and check start-up restores every stored frame
 * and index line from the journal, once.
 */
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import t from 'tap'
import { Dataset, JOURNAL_DIR } from '../../../scripts/backend/receive/dataset'
import { decodeSegment, segmentFiles } from '../../../scripts/backend/receive/journal'
import { validateFrame } from '../../../scripts/backend/receive/validate'
import { makeFrame } from './helpers/frames'
import { framesOnDisk, indexSeqs, range } from './helpers/disk'
import { abandon } from '../../helpers/abandon'

function tmp(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepn-journal-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const frame = (deviceId: string, seq: number) =>
  makeFrame({ deviceId, seq, capturedAt: new Date(Date.UTC(2026, 10, 25, 23, 59, 50) + seq * 1000).toISOString() })

async function put(ds: Dataset, deviceId: string, seq: number) {
  const f = frame(deviceId, seq)
  return ds.store(deviceId, validateFrame(deviceId, f), f, new Date())
}

const journalDir = (root: string) => path.join(root, JOURNAL_DIR, 'receiver')

/** What a power cut may leave of data never synced: files gone, emptied or garbage, the index cut mid-line. */
function losePageCache(root: string, deviceId: string): void {
  const files = [...framesOnDisk(root, deviceId).values()].flat().sort()
  files.forEach((f, i) => {
    if (i % 3 === 0) rmSync(f)
    else if (i % 3 === 1) truncateSync(f, 0)
    else writeFileSync(f, 'garbage')
  })
  const index = path.join(root, deviceId, 'index.jsonl')
  const text = readFileSync(index, 'utf8')
  writeFileSync(index, text.slice(0, Math.floor(text.length / 3)))
}

t.test('power cut: every stored frame and index line is restored from the journal, once', async (t) => {
  const root = tmp(t)
  const crashed = abandon(await Dataset.open(root))
  const stored = await Promise.all([
    ...range(1, 30).map((seq) => put(crashed, 'cam-a', seq)),
    ...range(1, 12).map((seq) => put(crashed, 'cam-b', seq)),
  ])
  t.ok(
    stored.every((r) => r.stored),
    'all stored',
  )
  // No close: the process died. Nothing was checkpointed, so all of it is in the journal only.
  const segments = await segmentFiles(journalDir(root))
  t.equal(decodeSegment(readFileSync(segments[0])).length, 42, 'the journal holds every stored frame')
  losePageCache(root, 'cam-a')
  rmSync(path.join(root, 'cam-b', '2026-11-26'), { recursive: true }) // a whole day folder never reached the disk

  const ds = await Dataset.open(root)
  for (const [deviceId, n] of [
    ['cam-a', 30],
    ['cam-b', 12],
  ] as const) {
    const onDisk = framesOnDisk(root, deviceId)
    t.same(
      [...onDisk.keys()].sort((a, b) => a - b),
      range(1, n),
      `${deviceId}: every frame back`,
    )
    t.ok(
      [...onDisk].every(([seq, files]) => files.length === 1 && readFileSync(files[0]).equals(frame(deviceId, seq))),
      `${deviceId}: each once, byte-identical`,
    )
    const seqs = indexSeqs(root, deviceId)
    t.same(
      [...seqs].sort((a, b) => a - b),
      range(1, n),
      `${deviceId}: one index line per frame`,
    )
    t.equal(ds.seqs(deviceId).contiguousThrough, n, `${deviceId}: known stored after the restart`)
  }
  t.equal((await put(ds, 'cam-a', 7)).stored, false, 'a redelivery after the restart is a duplicate')
  t.same(
    (await segmentFiles(journalDir(root))).filter((f) => statSync(f).size > 0),
    [],
    'the replayed segments are gone',
  )
  await ds.close()
  t.same(await segmentFiles(journalDir(root)), [], 'a clean close leaves no segment')
})

t.test('a torn or damaged record ends the replay of its segment; the records before it are restored', async (t) => {
  const root = tmp(t)
  const crashed = abandon(await Dataset.open(root))
  for (const seq of range(1, 5)) await put(crashed, 'cam-t', seq) // one batch each
  const [segment] = await segmentFiles(journalDir(root))
  const bytes = readFileSync(segment)
  const records = decodeSegment(bytes)
  t.equal(records.length, 5)
  // Damage one byte of record 4's JPEG (the CRC no longer matches) and append half a record.
  let at = 0
  for (let i = 0; i < 3; i++) at += 16 + bytes.readUInt32BE(at + 4) + bytes.readUInt32BE(at + 8)
  const damaged = Buffer.from(bytes)
  damaged[at + 16 + damaged.readUInt32BE(at + 4) + 20] ^= 0xff
  writeFileSync(segment, damaged)
  appendFileSync(segment, bytes.subarray(0, 30))
  t.equal(decodeSegment(readFileSync(segment)).length, 3, 'decoding stops at the damaged record')
  for (const files of framesOnDisk(root, 'cam-t').values()) rmSync(files[0])
  rmSync(path.join(root, 'cam-t', 'index.jsonl'))

  const ds = await Dataset.open(root)
  t.same(
    [...framesOnDisk(root, 'cam-t').keys()].sort((a, b) => a - b),
    [1, 2, 3],
    'the frames before the damage are restored',
  )
  t.same(indexSeqs(root, 'cam-t'), [1, 2, 3], 'with their index lines, in order')
  await ds.close()
})

t.test('a checkpoint flushes the files written, then deletes the full segment', async (t) => {
  const root = tmp(t)
  const flushed: string[][] = []
  const ds = await Dataset.open(root, {
    journalSegmentBytes: 1, // every batch fills a segment: the next one seals and checkpoints it
    flush: async (files) => {
      flushed.push([...files])
    },
  })
  await put(ds, 'cam-c', 1)
  t.equal((await segmentFiles(journalDir(root))).length, 1, 'one segment')
  await put(ds, 'cam-c', 2)
  await ds.close() // waits for the checkpoints
  t.same(await segmentFiles(journalDir(root)), [], 'both segments checkpointed and deleted')
  const day = path.join(root, 'cam-c', '2026-11-25')
  t.same(
    flushed.map((files) => files.map((f) => path.relative(root, f)).sort()),
    [
      [path.join('cam-c', '2026-11-25', '1.jpg'), path.join('cam-c', 'index.jsonl')],
      [path.join('cam-c', '2026-11-25', '2.jpg'), path.join('cam-c', 'index.jsonl')],
    ],
    'each checkpoint flushed the frames and the index of its segment',
  )
  t.ok(existsSync(path.join(day, '1.jpg')))
})

t.test('a failed checkpoint keeps its segment and refuses the next frame until the disk is usable', async (t) => {
  const root = tmp(t)
  let failing = true
  const ds = await Dataset.open(root, {
    journalSegmentBytes: 1,
    flush: async () => {
      if (failing) throw new Error('EIO: flush failed')
    },
  })
  await put(ds, 'cam-f', 1)
  await put(ds, 'cam-f', 2) // seals segment 1; its checkpoint fails in the background
  await t.rejects(put(ds, 'cam-f', 3), /EIO: flush failed/, 'the next store fails: not acknowledged')
  t.equal(ds.has('cam-f', 3), false)
  t.ok(
    (await segmentFiles(journalDir(root))).some((f) =>
      decodeSegment(readFileSync(f)).some((r) => r.file.endsWith('/1.jpg')),
    ),
    "frame 1's record is kept",
  )
  failing = false
  t.equal((await put(ds, 'cam-f', 3)).stored, true, 'stored once the flush works again')
  await ds.close()
  t.same(readdirSync(journalDir(root)), [], 'everything checkpointed at close')
})

t.test('after a kill, replay flushes the files the journal covers before deleting it, rewritten or not', async (t) => {
  const root = tmp(t)
  const crashed = abandon(await Dataset.open(root))
  for (const seq of [1, 2, 3]) await put(crashed, 'cam-k', seq)
  rmSync(path.join(root, 'cam-k', '2026-11-25', '2.jpg')) // the others read back right (the page cache survived)
  const flushed: string[] = []
  const ds = await Dataset.open(root, {
    flush: async (files) => {
      flushed.push(...files)
    },
  })
  t.same(
    [...new Set(flushed.map((f) => path.relative(root, f)))].sort(),
    [1, 2, 3].map((seq) => path.join('cam-k', '2026-11-25', `${seq}.jpg`)).concat(path.join('cam-k', 'index.jsonl')),
    'every journaled frame and the index flushed',
  )
  t.same(await segmentFiles(journalDir(root)).then((f) => f.length), 1, 'only the new, empty segment is left')
  await ds.close()
})

t.test(
  'a frame file in neither index nor journal that a power cut damaged goes; an intact one is indexed',
  async (t) => {
    const root = tmp(t)
    const ds1 = await Dataset.open(root)
    await put(ds1, 'cam-p', 1)
    await ds1.close()
    // Frames 7, 8 and 9 were written and renamed, their batch never synced to the journal (never acknowledged),
    // then the power went: 7 came back empty, 8 cut short, 9 whole.
    const day = path.join(root, 'cam-p', '2026-11-25')
    writeFileSync(path.join(day, '7.jpg'), '')
    writeFileSync(path.join(day, '8.jpg'), frame('cam-p', 8).subarray(0, 300))
    writeFileSync(path.join(day, '9.jpg'), frame('cam-p', 9))
    const ds = await Dataset.open(root)
    t.same(
      [...framesOnDisk(root, 'cam-p').keys()].sort((a, b) => a - b),
      [1, 9],
      'the damaged files are gone',
    )
    t.same(indexSeqs(root, 'cam-p'), [1, 9], 'the intact one is indexed')
    t.equal(ds.has('cam-p', 7) || ds.has('cam-p', 8), false, '7 and 8 are not taken as stored')
    t.equal((await put(ds, 'cam-p', 8)).stored, true, "8's redelivery is stored, not refused as a conflict")
    t.ok(readFileSync(path.join(day, '8.jpg')).equals(frame('cam-p', 8)), 'whole')
    await ds.close()
  },
)

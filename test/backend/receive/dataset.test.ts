/** What only the folders layout does; what every layout does is in helpers/frame-store-suite.ts. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import * as jpeg from 'jpeg-js'
import t from 'tap'
import { Dataset } from '../../../scripts/backend/receive/dataset'
import { validateFrame } from '../../../scripts/backend/receive/validate'
import { makeFrame } from './helpers/frames'
import { quantDigest } from '../../../shared/codec/quant-digest'

function tmp(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepn-dataset-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function put(ds: Dataset, deviceId: string, seq: number, capturedAt?: string) {
  const f = makeFrame({ deviceId, seq, capturedAt })
  return ds.store(deviceId, validateFrame(deviceId, f), f, new Date())
}

function indexLines(root: string, device: string): Array<Record<string, unknown>> {
  return readFileSync(path.join(root, device, 'index.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
}

t.test('layout, index and de-duplication', async (t) => {
  const root = tmp(t)
  const ds = await Dataset.open(root)
  const r1 = await put(ds, 'cam-a', 1, '2026-11-25T23:59:59.500Z')
  const r2 = await put(ds, 'cam-a', 2, '2026-11-26T00:00:00.100Z')
  t.equal(r1.stored, true)
  t.equal(path.relative(root, r1.file!), path.join('cam-a', '2026-11-25', '1.jpg'))
  t.equal(path.relative(root, r2.file!), path.join('cam-a', '2026-11-26', '2.jpg'), 'UTC date of capture')
  const dup = await put(ds, 'cam-a', 1, '2026-11-25T23:59:59.500Z')
  t.equal(dup.stored, false, 'duplicate not stored')
  const img = jpeg.decode(readFileSync(r1.file!))
  t.equal(img.width, 32)
  const idx = indexLines(root, 'cam-a')
  t.same(
    idx.map((e) => e.seq),
    [1, 2],
    'one index line per frame, duplicates not indexed',
  )
  t.match(idx[0], {
    seq: 1,
    capturedAt: '2026-11-25T23:59:59.500Z',
    tableId: 'test-table',
    bytes: readFileSync(r1.file!).length,
    file: '2026-11-25/1.jpg',
  })
  t.equal(idx[0].quantDigest, quantDigest(readFileSync(r1.file!)), "the stored file's tables digest")
  t.ok(!Number.isNaN(Date.parse(idx[0].receivedAt as string)))
  t.same(
    readdirSync(path.dirname(r1.file!)).filter((n) => n.startsWith('.')),
    [],
    'no temp files left',
  )
  await ds.close()
})

t.test('state is rebuilt from disk: duplicates refused after a restart, torn index repaired', async (t) => {
  const root = tmp(t)
  let ds = await Dataset.open(root)
  for (const seq of [1, 2, 3, 5]) await put(ds, 'cam-a', seq)
  await put(ds, 'cam-b', 10)
  await ds.close()
  // Simulate a crash: a temp file half written, and the index's last line torn and seq 5's line lost.
  const day = path.join(root, 'cam-a', '2026-11-25')
  writeFileSync(path.join(day, '.tmp-999-4.jpg'), 'half a frame')
  const idxFile = path.join(root, 'cam-a', 'index.jsonl')
  const lines = readFileSync(idxFile, 'utf8').split('\n').filter(Boolean)
  writeFileSync(idxFile, `${lines.slice(0, 3).join('\n')}\n${lines[3].slice(0, 10)}`)

  ds = await Dataset.open(root)
  t.same(ds.deviceIds().sort(), ['cam-a', 'cam-b'])
  t.equal(ds.has('cam-a', 5), true)
  t.equal(ds.has('cam-a', 4), false)
  t.same(ds.seqs('cam-a').gaps(), [{ from: 4, to: 4 }])
  t.equal((await put(ds, 'cam-a', 3)).stored, false, 'duplicate after restart')
  t.equal((await put(ds, 'cam-a', 4)).stored, true, 'gap fills')
  t.equal(ds.seqs('cam-a').contiguousThrough, 5)
  t.notOk(existsSync(path.join(day, '.tmp-999-4.jpg')), 'temp file from the crash removed')
  await ds.close()
  const lines2 = indexLines(root, 'cam-a')
  const seqs = lines2.map((e) => e.seq).sort((a, b) => (a as number) - (b as number))
  t.same(seqs, [1, 2, 3, 4, 5], 'index lists every stored frame exactly once after repair')
  const rebuilt = lines2.find((e) => e.seq === 5)!
  t.equal(
    rebuilt.quantDigest,
    quantDigest(readFileSync(path.join(day, '5.jpg'))),
    'a line rebuilt from the file has its digest too',
  )
})

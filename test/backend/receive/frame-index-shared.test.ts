/**
 * The index file several group members append to: opening it shared never cuts it (the tail may be another
 * member's line), a torn last line is ended so the next line stays whole, and lines are read incrementally.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import t from 'tap'
import { FrameIndex, indexLine, readIndexFrom, type IndexEntry } from '../../../scripts/backend/receive/frame-index'

const entry = (seq: number): IndexEntry => ({
  seq,
  capturedAt: '2026-11-25T12:00:00.000Z',
  tableId: 't',
  quantDigest: 'd',
  bytes: 100,
  receivedAt: '2026-11-25T12:00:01.000Z',
  width: 32,
  height: 24,
  file: `2026-11-25/${seq}.jpg`,
})

t.test('shared open keeps every byte and ends a torn line; reads resume from an offset', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepn-index-shared-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'index.jsonl')
  const whole = indexLine(entry(1)) + indexLine(entry(2))
  const torn = indexLine(entry(3)).slice(0, 20)
  writeFileSync(file, whole + torn)

  const first = await readIndexFrom(file, 0)
  t.same(first, { seqs: [1, 2], next: Buffer.byteLength(whole) }, 'complete lines only')
  const index = await FrameIndex.open(file, first.next, true)
  t.equal(readFileSync(file, 'utf8'), `${whole + torn}\n`, 'nothing cut, the torn line ended')
  await index.append([entry(4)])
  await index.close()
  t.same(
    await readIndexFrom(file, first.next),
    {
      seqs: [4],
      next: Buffer.byteLength(readFileSync(file)),
    },
    'the damaged line is skipped, the next one read whole',
  )
  t.same((await readIndexFrom(file, 0)).seqs, [1, 2, 4])

  writeFileSync(file, whole + torn)
  const own = await FrameIndex.open(file, first.next)
  await own.close()
  t.equal(readFileSync(file, 'utf8'), whole, 'not shared: the torn line is cut, as before')
})

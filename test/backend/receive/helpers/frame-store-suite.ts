/**
 * The behaviour every FrameStore layout (frame-store.ts) must have, run against each by frame-store.test.ts:
 * de-duplication, one index line per frame in call order, state rebuilt from disk, conflicts told from
 * redeliveries, bad device ids refused.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import * as jpeg from 'jpeg-js'
import type { Test } from 'tap'
import { readStoredFrame, type FrameStore, type StoreResult } from '../../../../scripts/backend/receive/frame-store'
import { validateFrame } from '../../../../scripts/backend/receive/validate'
import { quantDigest } from '../../../../shared/codec/quant-digest'
import { makeFrame } from './frames'

export type OpenStore = (root: string) => Promise<FrameStore>

function tmp(t: Test): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepn-store-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function put(ds: FrameStore, deviceId: string, seq: number, extra: Record<string, unknown> = {}): Promise<StoreResult> {
  const f = makeFrame({ deviceId, seq, ...extra })
  return ds.store(deviceId, validateFrame(deviceId, f), f, new Date())
}

export function indexLines(root: string, device: string): Array<Record<string, unknown>> {
  return readFileSync(path.join(root, device, 'index.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
}

/** The frame an index line describes, read the way a training script would: its file, from its offset. */
export function frameOfLine(root: string, device: string, line: Record<string, unknown>): Promise<Buffer> {
  const file = path.join(root, device, ...(line.file as string).split('/'))
  return readStoredFrame(file, line.offset as number | undefined, line.bytes as number)
}

export function frameStoreSuite(t: Test, open: OpenStore): void {
  t.test('stores each frame once, readable where its index line says', async (t) => {
    const root = tmp(t)
    const ds = await open(root)
    const sent = makeFrame({ deviceId: 'cam-a', seq: 1 })
    const r1 = await ds.store('cam-a', validateFrame('cam-a', sent), sent, new Date())
    const r2 = await put(ds, 'cam-a', 2)
    t.equal(r1.stored && r2.stored, true)
    t.same(await readStoredFrame(r1.file!, r1.offset, sent.length), sent, 'the stored bytes are the sent ones')
    t.same((await put(ds, 'cam-a', 1)).stored, false, 'duplicate not stored')
    await ds.close()
    const idx = indexLines(root, 'cam-a')
    t.same(
      idx.map((e) => e.seq),
      [1, 2],
      'one index line per frame, duplicates not indexed',
    )
    t.match(idx[0], { seq: 1, capturedAt: '2026-11-25T12:00:01.000Z', tableId: 'test-table', bytes: sent.length })
    const stored = await frameOfLine(root, 'cam-a', idx[0])
    t.same(stored, sent, "the line's file (and offset) give the frame")
    t.equal(idx[0].quantDigest, quantDigest(stored), "the stored frame's tables digest")
    t.equal(jpeg.decode(stored).width, 32, 'a whole JPEG')
    t.ok(!Number.isNaN(Date.parse(idx[0].receivedAt as string)))
  })

  t.test('state is rebuilt from disk: duplicates refused after a restart, a lost index line rebuilt', async (t) => {
    const root = tmp(t)
    let ds = await open(root)
    for (const seq of [1, 2, 3, 5]) await put(ds, 'cam-a', seq)
    await put(ds, 'cam-b', 10)
    await ds.close()
    // A crash that tore the index's last line (seq 5's): its frame is on disk, its line must come back.
    const idxFile = path.join(root, 'cam-a', 'index.jsonl')
    const lines = readFileSync(idxFile, 'utf8').split('\n').filter(Boolean)
    writeFileSync(idxFile, `${lines.slice(0, 3).join('\n')}\n${lines[3].slice(0, 10)}`)

    ds = await open(root)
    t.same(ds.deviceIds().sort(), ['cam-a', 'cam-b'])
    t.equal(ds.has('cam-a', 5), true)
    t.equal(ds.has('cam-a', 4), false)
    t.same(ds.seqs('cam-a').gaps(), [{ from: 4, to: 4 }])
    t.equal((await put(ds, 'cam-a', 3)).stored, false, 'duplicate after restart')
    t.equal((await put(ds, 'cam-a', 4)).stored, true, 'gap fills')
    t.equal(ds.seqs('cam-a').contiguousThrough, 5)
    await ds.close()
    const after = indexLines(root, 'cam-a')
    t.same(
      after.map((e) => e.seq).sort((a, b) => (a as number) - (b as number)),
      [1, 2, 3, 4, 5],
      'index lists every stored frame exactly once after repair',
    )
    const rebuilt = after.find((e) => e.seq === 5)!
    t.equal(rebuilt.quantDigest, quantDigest(await frameOfLine(root, 'cam-a', rebuilt)), 'the rebuilt line is whole')
  })

  t.test('a frame encoded with a keep map names it in its index line, also when the line is rebuilt', async (t) => {
    const root = tmp(t)
    let ds = await open(root)
    await put(ds, 'cam-a', 1, { meta: { keepMap: 'lot-a.v3' } })
    await put(ds, 'cam-a', 2)
    await ds.close()
    const idx = indexLines(root, 'cam-a')
    t.equal(idx[0].keepMap, 'lot-a.v3', 'the map id from the frame metadata')
    t.notOk('keepMap' in idx[1], 'no map, no key')
    writeFileSync(path.join(root, 'cam-a', 'index.jsonl'), '') // both lines lost: rebuilt from what is stored
    ds = await open(root)
    await ds.close()
    const rebuilt = indexLines(root, 'cam-a').sort((a, b) => (a.seq as number) - (b.seq as number))
    t.equal(rebuilt[0].keepMap, 'lot-a.v3', 'a rebuilt line keeps the map id')
    t.notOk('keepMap' in rebuilt[1])
  })

  t.test('refuses unusable device ids', async (t) => {
    const ds = await open(tmp(t))
    const f = makeFrame({ deviceId: 'x', seq: 1 })
    await t.rejects(ds.store('../evil', validateFrame('x', f), f, new Date()), /not usable as a folder name/)
    await ds.close()
  })

  t.test('a reused seq with another capture time is a conflict, not a duplicate', async (t) => {
    const ds = await open(tmp(t))
    const at = (capturedAt: string) => put(ds, 'cam-a', 1, { capturedAt })
    await at('2026-11-25T10:00:00.000Z')
    t.same(await at('2026-11-25T10:00:00.000Z'), { stored: false, conflict: false }, 'the same frame: a duplicate')
    t.same(await at('2026-11-25T11:00:00.000Z'), { stored: false, conflict: true }, 'same seq, other capture time')
    t.same(await at('2026-12-01T11:00:00.000Z'), { stored: false, conflict: true }, 'same seq, other day')
    await ds.close()
  })

  t.test('concurrent stores: a redelivery during the write is a duplicate; the index keeps call order', async (t) => {
    const root = tmp(t)
    const ds = await open(root)
    const order = [5, 3, 9, 3, 1, 7, 5, 2]
    const results = await Promise.all(order.map((seq) => put(ds, 'cam-c', seq)))
    t.same(
      results.map((r) => r.stored),
      [true, true, true, false, true, true, false, true],
      'the first copy of 3 and of 5 stored, the second a duplicate',
    )
    t.same(
      results.filter((r) => !r.stored).map((r) => r.conflict),
      [false, false],
    )
    t.same(
      indexLines(root, 'cam-c').map((e) => e.seq),
      [5, 3, 9, 1, 7, 2],
      'one line each, in the order store was called',
    )
    t.same(ds.seqs('cam-c').gaps(), [
      { from: 4, to: 4 },
      { from: 6, to: 6 },
      { from: 8, to: 8 },
    ])
    const [a, b] = await Promise.all([
      put(ds, 'cam-c', 11, { capturedAt: '2026-11-25T10:00:00.000Z' }),
      put(ds, 'cam-c', 11, { capturedAt: '2026-11-25T11:00:00.000Z' }),
    ])
    t.same([a.stored, b], [true, { stored: false, conflict: true }], 'a reused seq arriving during the write')
    await ds.close()
  })
}

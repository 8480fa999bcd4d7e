/**
 * What only the shards layout does (the rest: helpers/frame-store-suite.ts): shards GNU tar reads as they are,
 * ended at their size, and a crash's torn shard repaired at start-up.
 */
import { spawnSync } from 'node:child_process'
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import t from 'tap'
import { Dataset } from '../../../scripts/backend/receive/dataset'
import { ShardStore } from '../../../scripts/backend/receive/shard-store'
import { tarHeader } from '../../../scripts/backend/receive/tar'
import { validateFrame } from '../../../scripts/backend/receive/validate'
import { makeFrame } from './helpers/frames'
import { frameOfLine, indexLines } from './helpers/frame-store-suite'
import { abandon } from '../../helpers/abandon'

function tmp(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepn-shards-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function put(ds: ShardStore, seq: number): Promise<Buffer> {
  const f = makeFrame({ deviceId: 'cam-a', seq, width: 64, height: 48 })
  await ds.store('cam-a', validateFrame('cam-a', f), f, new Date())
  return f
}

function shards(root: string): string[] {
  const dir = path.join(root, 'cam-a', 'shards')
  return readdirSync(dir)
    .sort()
    .map((n) => path.join(dir, n))
}

/** GNU tar's listing of a shard; fails the test on any warning (a torn member, a missing end marker). */
function tarList(t: { equal(a: unknown, b: unknown, m: string): void }, file: string): string[] {
  const r = spawnSync('tar', ['-tf', file], { encoding: 'utf8' })
  t.equal(`${r.status} ${r.stderr}`, '0 ', `tar reads ${path.basename(file)} without a complaint`)
  return r.stdout.split('\n').filter(Boolean)
}

t.test('a shard is a tar GNU tar reads: <seq>.jpg and <seq>.json per frame, the json its index line', async (t) => {
  const root = tmp(t)
  const ds = await ShardStore.open(root)
  const sent = [await put(ds, 1), await put(ds, 2)]
  await ds.close()
  const [shard] = shards(root)
  t.equal(path.relative(root, shard), path.join('cam-a', 'shards', '000001.tar'))
  t.same(tarList(t, shard), ['000000000001.jpg', '000000000001.json', '000000000002.jpg', '000000000002.json'])
  const jpg = spawnSync('tar', ['-xOf', shard, '000000000002.jpg'])
  t.same(jpg.stdout, sent[1], 'the member is the frame, byte for byte')
  const json = spawnSync('tar', ['-xOf', shard, '000000000001.json'], { encoding: 'utf8' }).stdout
  const lines = indexLines(root, 'cam-a')
  t.same(JSON.parse(json), lines[0], "the .json member is the frame's index line")
  t.match(lines[1], { file: 'shards/000001.tar', offset: Number })
  t.same(await frameOfLine(root, 'cam-a', lines[1]), sent[1], 'file + offset + bytes give the frame')
})

t.test('a shard is ended at its size and the next begun; every one stays readable', async (t) => {
  const root = tmp(t)
  const ds = await ShardStore.open(root, { shardBytes: 20 * 1024 })
  const sent: Buffer[] = []
  for (let seq = 1; seq <= 12; seq++) sent.push(await put(ds, seq))
  await ds.close()
  const files = shards(root)
  t.ok(files.length >= 3, `${files.length} shards`)
  t.same(files.flatMap((f) => tarList(t, f)).filter((n) => n.endsWith('.jpg')).length, 12, 'each frame once')
  const lines = indexLines(root, 'cam-a')
  for (const line of lines) t.same(await frameOfLine(root, 'cam-a', line), sent[(line.seq as number) - 1])
  t.equal(new Set(lines.map((l) => l.file)).size, files.length, 'the lines name each shard')
})

t.test(
  'batches written while earlier ones sync: each frame resolved once, in call order, across shard ends',
  async (t) => {
    const root = tmp(t)
    const ds = await ShardStore.open(root, { shardBytes: 1 }) // each batch ends its shard: shards count the batches
    const sent = new Map<string, Buffer>()
    const stores: Promise<unknown>[] = []
    const order: string[] = []
    // Frames of two devices keep arriving while earlier batches are written and synced, so several are in flight
    // (once the devices are open: frames arriving while a device loads wait for it, then make one batch).
    for (let seq = 1; seq <= 60; seq++) {
      if (seq === 2) await Promise.all(stores)
      for (const deviceId of ['cam-a', 'cam-b']) {
        const f = makeFrame({ deviceId, seq, width: 64, height: 48 })
        sent.set(`${deviceId}/${seq}`, f)
        stores.push(
          ds.store(deviceId, validateFrame(deviceId, f), f, new Date()).then(() => order.push(`${deviceId}/${seq}`)),
        )
      }
      if (seq % 5 === 0) await new Promise((resolve) => setTimeout(resolve, 1))
    }
    await Promise.all(stores)
    await ds.close()
    for (const deviceId of ['cam-a', 'cam-b']) {
      const lines = indexLines(root, deviceId)
      t.same(
        lines.map((l) => l.seq),
        Array.from({ length: 60 }, (_, i) => i + 1),
        `${deviceId}: one line per frame, in call order`,
      )
      for (const line of lines) t.same(await frameOfLine(root, deviceId, line), sent.get(`${deviceId}/${line.seq}`))
      const dir = path.join(root, deviceId, 'shards')
      const files = readdirSync(dir).sort()
      // at least the first frame's batch and one after it (how the rest batch up depends on the machine's timing)
      t.ok(files.length >= 2, `${deviceId}: ${files.length} shards, one per batch`)
      t.equal(
        files.flatMap((f) => tarList(t, path.join(dir, f))).length,
        120,
        `${deviceId}: each frame once in the tars`,
      )
    }
    for (const deviceId of ['cam-a', 'cam-b']) {
      const mine = order.filter((k) => k.startsWith(deviceId)).map((k) => Number(k.split('/')[1]))
      t.same(
        mine,
        [...mine].sort((a, b) => a - b),
        `${deviceId}: frames resolve in the order they were stored`,
      )
    }
  },
)

t.test('after a crash: the torn batch is cut, lost index lines rebuilt from the shard, writing goes on', async (t) => {
  const root = tmp(t)
  const crashed = abandon(await ShardStore.open(root))
  const sent: Buffer[] = []
  for (let seq = 1; seq <= 6; seq++) sent.push(await put(crashed, seq))
  // no close(): the process died. Its last batch was torn (half a member) and two index lines never reached disk.
  const [shard] = shards(root)
  appendFileSync(shard, Buffer.concat([tarHeader('000000000007.jpg', 5000, 0), Buffer.alloc(700, 1)]))
  const idx = path.join(root, 'cam-a', 'index.jsonl')
  const kept = readFileSync(idx, 'utf8').split('\n').filter(Boolean).slice(0, 4)
  writeFileSync(idx, `${kept.join('\n')}\n`)

  const ds = await ShardStore.open(root)
  t.same(ds.seqs('cam-a').gaps(), [], 'frames 5 and 6 known again')
  t.equal(ds.seqs('cam-a').last, 6)
  t.same(tarList(t, shard).length, 12, 'the torn member is gone, the shard ended')
  sent.push(await put(ds, 7))
  await ds.close()
  const lines = indexLines(root, 'cam-a')
  t.same(
    lines.map((l) => l.seq),
    [1, 2, 3, 4, 5, 6, 7],
    'one line per frame',
  )
  for (const line of lines) t.same(await frameOfLine(root, 'cam-a', line), sent[(line.seq as number) - 1])
  t.equal(lines[6].file, 'shards/000002.tar', 'frames after the restart go to a new shard')
  for (const f of shards(root)) tarList(t, f)
})

t.test('a dataset keeps its layout: the other one is refused with the fix', async (t) => {
  const sharded = tmp(t)
  await (await ShardStore.open(sharded)).close()
  await t.rejects(Dataset.open(sharded), /holds frames in the 'shards' layout; run with --layout shards/)
  const folders = tmp(t)
  const ds = await Dataset.open(folders)
  const f = makeFrame({ deviceId: 'cam-a', seq: 1 })
  await ds.store('cam-a', validateFrame('cam-a', f), f, new Date())
  await ds.close()
  await t.rejects(ShardStore.open(folders), /holds frames in the 'folders' layout; run with --layout folders/)
  writeFileSync(path.join(sharded, '.deepn-layout'), 'zip\n')
  await t.rejects(ShardStore.open(sharded), /names layout 'zip'; expected one of folders, shards/)
})

/**
 * Shared folder: each frame's index line is appended exactly once, whoever races for it (line-claim.ts). Several
 * Dataset instances on one folder stand for group members (nothing shared in memory, as between processes); a
 * writer whose batch outlasts the grace period is made by holding its journal append, a writer killed between its
 * journal and its lines by never letting the append return.
 */
import { existsSync, linkSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import t, { type Test } from 'tap'
import { Dataset, type DatasetOptions } from '../../../scripts/backend/receive/dataset'
import type { StoreResult } from '../../../scripts/backend/receive/frame-store'
import { claimTokenPath } from '../../../scripts/backend/receive/line-claim'
import { validateFrame } from '../../../scripts/backend/receive/validate'
import { framesOnDisk, indexSeqs, range } from './helpers/disk'
import { makeFrame } from './helpers/frames'
import { waitFor } from './helpers/sim-agent'
import { abandon } from '../../helpers/abandon'

const GRACE = 300
const N = 12
const DEV = 'cam-c'

function folder(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'deepn-line-claim-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const member = (root: string, journal: string, opts: DatasetOptions = {}) =>
  Dataset.open(root, { shared: true, journal, graceMs: GRACE, flush: async () => {}, ...opts })

function put(ds: Dataset, seq: number): Promise<StoreResult> {
  const f = makeFrame({ deviceId: DEV, seq })
  return ds.store(DEV, validateFrame(DEV, f), f, new Date())
}

const frameFile = (root: string, seq: number) =>
  path.join(root, Dataset.framePath(DEV, { seq, capturedAt: makeFrameCapturedAt(seq) }))
/** makeFrame's default capture time. */
const makeFrameCapturedAt = (seq: number) => new Date(Date.UTC(2026, 10, 25, 12, 0, 0) + seq * 1000).toISOString()

type Append = (...args: unknown[]) => Promise<void>
function journalOf(ds: Dataset): { append: Append } {
  return (ds as unknown as { journal: { append: Append } }).journal
}

/** Holds the member's journal appends until `release()`: its batch outlasts the grace period. */
function holdJournal(ds: Dataset): () => void {
  const journal = journalOf(ds)
  const append = journal.append.bind(journal)
  let release!: () => void
  const held = new Promise<void>((resolve) => (release = resolve))
  journal.append = async (...args) => {
    await held
    return append(...args)
  }
  return release
}

/**
 * The member as killed once its batches are in its journal, before their lines: each append fails right after
 * syncing (the member is then left alone, never closed). Returns how many frames are in its journal.
 */
function dieAfterJournal(ds: Dataset): () => number {
  abandon(ds)
  const journal = journalOf(ds)
  const append = journal.append.bind(journal)
  let frames = 0
  journal.append = async (...args) => {
    await append(...args)
    frames += (args[0] as unknown[]).length
    throw new Error('killed after its journal append')
  }
  return () => frames
}

/** Each seq 1..n exactly once in the index, and one file each. */
function exactlyOnce(t: Test, root: string, n = N, what = 'each seq has exactly one index line'): void {
  const seqs = indexSeqs(root, DEV).sort((a, b) => a - b)
  t.same(seqs, range(1, n), what)
  t.same(
    [...framesOnDisk(root, DEV).keys()].sort((a, b) => a - b),
    range(1, n),
    'one file per seq',
  )
}

/** Temp names left in the device's day folders. */
function tempNames(root: string): string[] {
  const devDir = path.join(root, DEV)
  if (!existsSync(devDir)) return []
  return readdirSync(devDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(path.join(devDir, d.name)).filter((n) => n.startsWith('.tmp-')))
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

t.test('a writer whose batch outlasts the grace period races redeliveries at two members', async (t) => {
  const root = folder(t)
  const [a, b, c] = [await member(root, 'a'), await member(root, 'b'), await member(root, 'c')]
  const release = holdJournal(a)
  const writes = range(1, N).map((seq) => put(a, seq))
  await waitFor(() => framesOnDisk(root, DEV).size === N, 10000, 'the writer linked every frame')
  await sleep(GRACE + 50)
  // The redeliveries find the files past the grace period without lines; the writer's batch becomes durable once
  // half of them are done, racing the rest.
  let done = 0
  const redelivered = range(1, N).flatMap((seq) => [put(b, seq), put(c, seq)].map((p) => p.finally(() => done++)))
  await waitFor(() => done >= N, 10000, 'half the redeliveries handled')
  release()
  const results = await Promise.all([...writes, ...redelivered])
  t.ok(
    results.slice(0, N).every((r) => r.stored),
    'the writer stored every frame',
  )
  t.ok(
    results.slice(N).every((r) => !r.stored && !r.conflict),
    'the redeliveries are duplicates',
  )
  exactlyOnce(t, root)
  t.same(tempNames(root), [], 'no claim token left')
  for (const ds of [a, b, c]) await ds.close()
  exactlyOnce(t, root, N, 'still once after the members close')
})

t.test("a member's start-up scan past the grace period vs the writer", async (t) => {
  const root = folder(t)
  const a = await member(root, 'a')
  const release = holdJournal(a)
  const writes = range(1, N).map((seq) => put(a, seq))
  await waitFor(() => framesOnDisk(root, DEV).size === N, 10000, 'the writer linked every frame')
  await sleep(GRACE + 50)
  const c = await member(root, 'c') // its scan finds the frames without lines, old enough
  release()
  await Promise.all(writes)
  exactlyOnce(t, root)
  t.ok(
    range(1, N).every((seq) => c.has(DEV, seq)),
    'the scanning member counts every seq stored',
  )
  for (const ds of [a, c]) await ds.close()
})

t.test('a scan keeps a young claim token; stale tokens and markers go', async (t) => {
  const root = folder(t)
  const a = await member(root, 'a')
  const release = holdJournal(a)
  const writes = range(1, N).map((seq) => put(a, seq))
  await waitFor(() => tempNames(root).length === N, 10000, 'every frame linked with its token')
  const d = await member(root, 'd', { graceMs: 60000 }) // everything is young for this one
  t.equal(tempNames(root).length, N, "the scan left the writer's tokens")
  t.same(indexSeqs(root, DEV), [], 'and indexed nothing')
  release()
  await Promise.all(writes)
  exactlyOnce(t, root)
  // a redelivery at the scanning member: the line is there, nothing appended
  await Promise.all(range(1, N).map((seq) => put(d, seq)))
  exactlyOnce(t, root)

  // stale: a token whose frame is gone, a token and an orphan marker of indexed frames
  const gone = claimTokenPath(frameFile(root, N + 1))
  writeFileSync(gone, 'x')
  linkSync(frameFile(root, 1), claimTokenPath(frameFile(root, 1)))
  linkSync(frameFile(root, 2), path.join(path.dirname(frameFile(root, 2)), '.tmp-orphan-123-2.jpg'))
  await sleep(GRACE + 50)
  const e = await member(root, 'e')
  t.same(tempNames(root), [], 'swept')
  exactlyOnce(t, root)
  for (const ds of [a, d, e]) await ds.close()
})

/**
 * Member 'a' stores seqs 1..N and dies once they are in its journal, before any index line; the tokens of
 * `claimed` are gone, as a claimer killed between taking a token and appending its line leaves them.
 */
async function writerDiedAfterJournal(root: string, claimed: number[]): Promise<void> {
  const a = await member(root, 'a')
  const journaled = dieAfterJournal(a)
  for (const seq of range(1, N)) put(a, seq).catch(() => {})
  await waitFor(() => journaled() === N, 10000, 'every frame in the journal')
  for (const seq of claimed) rmSync(claimTokenPath(frameFile(root, seq)), { force: true })
}

t.test('journal replay after the writer died between its journal and its lines, racing a redelivery', async (t) => {
  const root = folder(t)
  // Seqs 1..3 as a writer killed between taking its token and appending leaves them (any claimer, same state).
  await writerDiedAfterJournal(root, [1, 2, 3])
  const b = await member(root, 'b') // the frames are young: its scan leaves them
  await sleep(GRACE + 50)
  // the restarted writer replays its journal while the broker redelivers the unacknowledged frames to b
  const [a2, ...dups] = await Promise.all([member(root, 'a'), ...range(4, N).map((seq) => put(b, seq))])
  t.ok(
    dups.every((r) => !r.stored),
    'the redeliveries are duplicates',
  )
  exactlyOnce(t, root)
  for (const ds of [a2, b]) await ds.close()
})

t.test('a claimer killed between taking the token and appending: the line comes back once', async (t) => {
  const root = folder(t)
  await writerDiedAfterJournal(root, range(1, N))
  // replayed at once (the frames changed less than the grace period ago): waits for the claimer's line, then
  // takes the orphans
  const started = Date.now()
  const a2 = await member(root, 'a')
  t.ok(Date.now() - started >= GRACE - 20, 'replay waited for the grace period')
  exactlyOnce(t, root)
  // another member's scan and a redelivery meet the frames afterwards: nothing more
  const b = await member(root, 'b')
  await Promise.all(range(1, N).map((seq) => put(b, seq)))
  exactlyOnce(t, root)
  for (const ds of [a2, b]) await ds.close()
})

t.test('orphans met by two members at once (the scan of one, a redelivery at the other) get one line', async (t) => {
  const root = folder(t)
  await writerDiedAfterJournal(root, range(1, N))
  const b = await member(root, 'b')
  await sleep(GRACE + 50)
  const [c] = await Promise.all([member(root, 'c'), ...range(1, N).map((seq) => put(b, seq))])
  exactlyOnce(t, root)
  for (const ds of [b, c]) await ds.close()
})

t.test('not shared: no token, one line, nothing left behind', async (t) => {
  const root = folder(t)
  const ds = await Dataset.open(root, { flush: async () => {} })
  await Promise.all(range(1, N).map((seq) => put(ds, seq)))
  await Promise.all(range(1, N).map((seq) => put(ds, seq)))
  exactlyOnce(t, root)
  t.same(tempNames(root), [], 'no temp file')
  await ds.close()
})

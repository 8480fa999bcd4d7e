/**
 * Durability against kill -9: a real child process appends (and acknowledges) frames in a loop and is SIGKILLed
 * mid-stream, repeatedly. After each kill the store is reopened: every frame whose append returned and was not
 * acknowledged is there, byte-for-byte; every acknowledged one is gone; the next seq is above any seen.
 */
import t from 'tap'
import * as path from 'node:path'
import { SqliteFrameStore } from '../../agent/buffer/sqlite-store'
import { tmpDir } from './fixtures/tmp-dir'
import { makeFrame, verifyFrame } from './fixtures/frames'
import { spawnTs } from './fixtures/spawn-ts'

const CHILD = path.join(__dirname, 'fixtures', 'append-child.ts')

interface Run {
  appended: Map<number, number> // seq -> n
  removedThrough: number
  /** A removeThrough started but not reported done: atomic, so it either fully happened or not at all. */
  removing: number
  stderr: string
  signal: NodeJS.Signals | null
}

/** Starts the child, kills it with SIGKILL after `killAfter` committed appends, returns what it reported. */
function runAndKill(
  file: string,
  firstN: number,
  frameBytes: number,
  synchronous: string,
  killAfter: number,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawnTs(CHILD, [file, String(firstN), String(frameBytes), synchronous])
    const run: Run = { appended: new Map(), removedThrough: 0, removing: 0, stderr: '', signal: null }
    let pending = ''
    let killed = false
    child.stdout!.setEncoding('utf8')
    child.stdout!.on('data', (chunk: string) => {
      pending += chunk
      const lines = pending.split('\n')
      pending = lines.pop()!
      for (const line of lines) {
        const [kind, a, b] = line.split(' ')
        if (kind === 'A') run.appended.set(Number(a), Number(b))
        else if (kind === 'r') run.removing = Number(a)
        else if (kind === 'R') run.removedThrough = Math.max(run.removedThrough, Number(a))
      }
      if (!killed && run.appended.size >= killAfter) {
        killed = true
        child.kill('SIGKILL')
      }
    })
    child.stderr!.setEncoding('utf8')
    child.stderr!.on('data', (s: string) => {
      run.stderr += s
    })
    child.on('error', reject)
    child.on('close', (_code, signal) => {
      run.signal = signal
      resolve(run)
    })
  })
}

const plans = [
  { synchronous: 'NORMAL', frameBytes: 100_000, kills: [37, 120, 5, 260] },
  { synchronous: 'FULL', frameBytes: 20_000, kills: [60, 7] },
] as const
for (const { synchronous, frameBytes, kills } of plans) {
  t.test(
    `kill -9 mid-stream (${synchronous}, ${frameBytes}-byte frames): nothing committed is lost, no seq reused`,
    async (t) => {
      const file = path.join(tmpDir(t), 'buffer.db')
      let maxSeenSeq = 0
      let nextN = 0
      for (const killAfter of kills) {
        const run = await runAndKill(file, nextN, frameBytes, synchronous, killAfter)
        t.equal(run.signal, 'SIGKILL', `the child was killed, not crashed: ${run.stderr.slice(0, 500)}`)
        t.ok(run.appended.size >= killAfter, `${run.appended.size} appends reported before the kill`)
        const seqs = [...run.appended.keys()]
        t.ok(Math.min(...seqs) > maxSeenSeq, 'the restarted writer continued above every seq seen before')
        maxSeenSeq = Math.max(...seqs)
        nextN = Math.max(...run.appended.values()) + 1

        const store = new SqliteFrameStore({ path: file })
        const stored = new Map(store.peek(100_000).map((f) => [f.seq, f]))
        let intact = 0
        let removedThrough = run.removedThrough
        if (run.removing > removedThrough) {
          const inDoubt = seqs.filter((s) => s > removedThrough && s <= run.removing)
          const present = inDoubt.filter((s) => stored.has(s)).length
          t.ok(
            present === 0 || present === inDoubt.length,
            `the interrupted removeThrough(${run.removing}) is all or nothing (${present}/${inDoubt.length} left)`,
          )
          if (present === 0) removedThrough = run.removing
        }
        for (const [seq, n] of run.appended) {
          const f = stored.get(seq)
          if (seq <= removedThrough) {
            if (f) t.fail(`seq ${seq} was acknowledged but is back`)
            continue
          }
          if (!f) {
            t.fail(`seq ${seq} (frame ${n}) was committed but is missing`)
            continue
          }
          if (verifyFrame(f) === n) intact++
        }
        const expected = seqs.filter((s) => s > removedThrough).length
        t.equal(intact, expected, `all ${expected} committed, unacknowledged frames are intact`)
        t.ok(
          stored.size >= expected,
          'only frames from this run remain (at most one more, committed but not yet reported)',
        )
        t.ok(stored.size <= expected + 1)
        const next = store.append(makeFrame(nextN++, 100)).seq!
        t.ok(next > maxSeenSeq, `next seq ${next} > ${maxSeenSeq}`)
        maxSeenSeq = next
        store.removeThrough(next) // leave a clean slate for the next child
        store.close()
      }
    },
  )
}

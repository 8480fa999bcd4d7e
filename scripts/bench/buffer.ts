/**
 * Frame buffer benchmark: appends/s of 100 KB frames into SqliteFrameStore with synchronous NORMAL vs FULL,
 * against peers measured in the same run (the in-memory store; one file per frame without and with fsync, the
 * obvious hand-rolled alternative), plus the publisher's drain path (peek + remove). Prints medians over rounds.
 *
 *   npm run bench:buffer -- [--frames 300] [--rounds 5] [--bytes 100000] [--dir /path/on/the/sd/card]
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { MemoryFrameStore } from '../../agent/buffer/memory-store'
import { SqliteFrameStore } from '../../agent/buffer/sqlite-store'
import type { FrameStore, NewFrame } from '../../agent/buffer/store'

interface Options {
  frames: number
  rounds: number
  bytes: number
  dir: string
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { frames: 300, rounds: 5, bytes: 100_000, dir: os.tmpdir() }
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]]
    if (key === '--dir' && value) opts.dir = value
    else if (
      (key === '--frames' || key === '--rounds' || key === '--bytes') &&
      Number.isInteger(Number(value)) &&
      Number(value) > 0
    ) {
      opts[key.slice(2) as 'frames' | 'rounds' | 'bytes'] = Number(value)
    } else
      throw new Error(`bench-buffer: bad argument ${key} ${value ?? ''} (see the header of scripts/bench/buffer.ts)`)
  }
  return opts
}

function frames(n: number, bytes: number): NewFrame[] {
  return Array.from({ length: n }, (_, i) => {
    const jpeg = new Uint8Array(bytes)
    for (let j = 0; j < bytes; j += 4096) jpeg[j] = (i + j) & 0xff
    return { jpeg, capturedAt: Date.now(), tableId: 'bench', width: 640, height: 480 }
  })
}

/** Runs `fn` over all frames in a fresh directory; returns operations per second. */
function timed(opts: Options, input: NewFrame[], fn: (dir: string, input: NewFrame[]) => void): number {
  const dir = fs.mkdtempSync(path.join(opts.dir, 'deepn-bench-'))
  try {
    const t0 = process.hrtime.bigint()
    fn(dir, input)
    const s = Number(process.hrtime.bigint() - t0) / 1e9
    return input.length / s
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

function appendAll(store: FrameStore, input: NewFrame[]): void {
  for (const f of input) store.append(f)
  store.close()
}

function filePerFrame(dir: string, input: NewFrame[], sync: boolean): void {
  input.forEach((f, i) => {
    const fd = fs.openSync(path.join(dir, `${i}.jpg`), 'w')
    fs.writeSync(fd, f.jpeg)
    if (sync) fs.fsyncSync(fd)
    fs.closeSync(fd)
  })
}

/** The publisher's path: append everything, then drain oldest-first one by one (peek + remove). */
function drain(dir: string, input: NewFrame[]): number {
  const store = new SqliteFrameStore({ path: path.join(dir, 'drain.db') })
  for (const f of input) store.append(f)
  const t0 = process.hrtime.bigint()
  for (let batch = store.peek(1); batch.length > 0; batch = store.peek(1)) store.remove(batch[0].seq)
  const s = Number(process.hrtime.bigint() - t0) / 1e9
  store.close()
  return input.length / s
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

export async function main(argv: string[]): Promise<number> {
  const opts = parseArgs(argv)
  const input = frames(opts.frames, opts.bytes)
  const cases: Record<string, (dir: string, input: NewFrame[]) => void> = {
    'sqlite NORMAL': (dir, i) =>
      appendAll(new SqliteFrameStore({ path: path.join(dir, 'b.db'), synchronous: 'NORMAL' }), i),
    'sqlite FULL': (dir, i) =>
      appendAll(new SqliteFrameStore({ path: path.join(dir, 'b.db'), synchronous: 'FULL' }), i),
    'memory store': (_dir, i) => appendAll(new MemoryFrameStore(), i),
    'file per frame': (dir, i) => filePerFrame(dir, i, false),
    'file per frame + fsync': (dir, i) => filePerFrame(dir, i, true),
  }
  const results: Record<string, number[]> = {}
  const drains: number[] = []
  for (let r = 0; r < opts.rounds; r++) {
    // Interleaved rounds, so drift in the machine's state hits every case alike.
    for (const [name, fn] of Object.entries(cases)) (results[name] ??= []).push(timed(opts, input, fn))
    const dir = fs.mkdtempSync(path.join(opts.dir, 'deepn-bench-'))
    try {
      drains.push(drain(dir, input))
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
  console.log(
    `frame buffer: ${opts.frames} frames x ${opts.bytes} bytes, ${opts.rounds} rounds, in ${opts.dir} (median appends/s; ratio to file per frame + fsync)`,
  )
  const base = median(results['file per frame + fsync'])
  for (const [name, xs] of Object.entries(results)) {
    const m = median(xs)
    console.log(
      `  ${name.padEnd(24)} ${m.toFixed(0).padStart(8)} /s  ${((m * opts.bytes) / 1e6).toFixed(1).padStart(7)} MB/s  x${(m / base).toFixed(2)}`,
    )
  }
  console.log(`  ${'sqlite drain (peek+remove)'.padEnd(24)} ${median(drains).toFixed(0).padStart(8)} /s`)
  return 0
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err))
      process.exitCode = 1
    },
  )
}

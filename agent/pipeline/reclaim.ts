/**
 * Returns big frame buffers promptly. A 1080p RGB frame is 6 MB of ArrayBuffer outside the V8 heap; with a
 * heap of a few MB, V8 sees little reason to collect, so dead frames pile up (sources reuse their frame, see
 * FrameSource.release, but one taken at a new size, or a decoder's output, is still a new buffer). One full GC
 * after each large frame (~20 ms on a Pi-class core, against ~100+ ms of encoding) also keeps the rest of the
 * heap compact. scripts/bench/agent-memory.ts measures the result: a plain run's RSS and its slope over time
 * (README, Memory). Small frames skip it.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/** Raw frames at least this big trigger a collection. */
export const RECLAIM_BYTES = 2 * 1024 * 1024

type Gc = (options?: { type: 'major'; execution: 'sync'; flavor: 'regular' }) => void
let gc: Gc | undefined | null = null

function getGc(): Gc | undefined {
  if (gc !== null) return gc
  const exposed = (globalThis as { gc?: Gc }).gc
  if (exposed) return (gc = exposed)
  try {
    setFlagsFromString('--expose-gc')
    gc = runInNewContext('gc') as Gc
  } catch {
    gc = undefined
  }
  return gc
}

/**
 * A full, synchronous collection of the regular flavour. Plain `gc()` is the last-resort flavour, which also
 * drops every map without a live object: the codec's two-pass objects (its bit writer, the progressive scan coder)
 * have none between frames, so all optimised code that checked their maps was thrown away after each frame and the
 * next progressive or optimal-Huffman encode ran 3-5x slower (1080p progressive 12 -> 60-70 ms of CPU). The regular
 * flavour keeps them, but returns less memory: with it after every frame, a baseline run's RSS rose 0.9 MiB/min
 * over 5 minutes where last-resort collections held it flat. So only two-pass encoding gets it, and even then
 * every LAST_RESORT_EVERY-th collection is a last-resort one (one slow frame in that many).
 */
export const REGULAR_MAJOR = { type: 'major', execution: 'sync', flavor: 'regular' } as const
const LAST_RESORT_EVERY = 8
let collections = 0

/** One full, synchronous collection of the regular flavour now (benchmarks between timed slices). Never throws. */
export function collectRegular(): void {
  try {
    getGc()?.(REGULAR_MAJOR)
  } catch {
    /* best effort */
  }
}

/**
 * Collects garbage if the frame just handled was large. `twoPass`: the frame was encoded progressive or with
 * optimal Huffman tables (see REGULAR_MAJOR). Never throws.
 */
export function reclaimAfterFrame(rawBytes: number, twoPass = false): void {
  if (rawBytes < RECLAIM_BYTES) return
  try {
    const regular = twoPass && ++collections % LAST_RESORT_EVERY !== 0
    getGc()?.(regular ? REGULAR_MAJOR : undefined)
  } catch {
    /* best effort */
  }
}

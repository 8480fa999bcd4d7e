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

let gc: (() => void) | undefined | null = null

function getGc(): (() => void) | undefined {
  if (gc !== null) return gc
  const exposed = (globalThis as { gc?: () => void }).gc
  if (exposed) return (gc = exposed)
  try {
    setFlagsFromString('--expose-gc')
    gc = runInNewContext('gc') as () => void
  } catch {
    gc = undefined
  }
  return gc
}

/** Collects garbage if the frame just handled was large. Never throws. */
export function reclaimAfterFrame(rawBytes: number): void {
  if (rawBytes < RECLAIM_BYTES) return
  try {
    getGc()?.()
  } catch {
    /* best effort */
  }
}

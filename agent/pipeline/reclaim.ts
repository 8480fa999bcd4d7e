/**
 * Returns big frame buffers promptly. A 1080p RGB frame is 6 MB of ArrayBuffer outside the V8 heap; with a
 * 6 MB JS heap, V8 sees little reason to collect, so several dead frames pile up (RSS swung between 80 and 120 MB
 * before sources reused their frame, see FrameSource.release). One full GC after each large frame (~20 ms on a
 * Pi-class core, against ~100+ ms of encoding) also keeps the rest of the heap compact: with the synthetic source
 * reusing its frame, skipping it left RSS 1.5 MB higher and growing (scripts/bench/agent-memory.ts). Small frames
 * skip it.
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
  try { getGc()?.() } catch { /* best effort */ }
}

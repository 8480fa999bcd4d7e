/**
 * Frame memory: how much memory a configuration makes the agent hold for frames, estimated from what the pipeline
 * allocates, and the budget it must stay within (`capture.memoryBudgetMB`). A remote change whose estimate passes
 * the budget is refused before it applies, so a backend cannot ask a 512 MB board for an 8192x8192 frame.
 *
 * The estimate is an upper one for a frame at the finest tables; DeepN tables make JPEGs 10-30x smaller, so real
 * use stays well below it. Frames go through one at a time (the capture loop stores a frame before it captures the
 * next, and collects a big frame's garbage right after it, see reclaim.ts), so the peak is one frame's capture,
 * encode and output, plus the JPEGs the publisher holds until their PUBACK:
 *
 *   capture  raw frame as the source holds it at its peak, per pixel: synthetic 1.5 (I420 for a 4:2:0 encoder)
 *            or 3 (RGB for 4:4:4); rpicam 4.5 (I420 is
 *            1.5, held three times: piped chunks, joined, packed; rpicam-vid: two stream buffers and the packed
 *            copy); raspistill 9 (BMP piped in and joined, 3 each, then decoded RGB 3); files 10 (the file, up to
 *            3 for PPM, the decoder's RGBA 4 and the RGB 3; the images' own size counts, not width x height).
 *   encoder  samples = pixels x 1.5 (4:2:0, and always for rpicam's I420) or x 3 (4:4:4); per-row strips and
 *            kernel buffers (about 211 bytes per pixel column) and 2 MB of heap an encode grows into (measured on
 *            small frames); with `encoder.optimizeHuffman` or `encoder.progressive` every coefficient of the
 *            frame at the finest tables, 2 bytes per sample plus 5 per block (shared/codec/frame-blocks.ts: coarser
 *            tables leave most of it untouched, so not resident).
 *   output   JPEG bytes J = 0.6 per sample (the finest tables, IJG quality 100, on the noisy test pattern: 0.52 at
 *            4:2:0, 0.58 at 4:4:4); encoding holds 3 J (the growing output buffer, up to 2 J, and its exact copy).
 *   inflight `mqtt.inflight` frames x 2 J' (the stored JPEG read back and the stamped payload, held until PUBACK),
 *            J' = J capped by `mqtt.maxPayloadBytes` when set (bigger frames are re-encoded coarser to fit).
 *
 * Not counted: the agent's own baseline (Node, SQLite cache, about 40-60 MB), coarser re-encodes to fit the payload
 * limit (each smaller than the last), and re-encoding a stored frame that no longer fits a lowered limit.
 */
import { totalmem } from 'node:os'
import { ConfigError, type AgentConfig } from '../../shared/config'

const MiB = 1024 * 1024

/** Raw bytes per pixel each source holds at its peak (see above). */
const CAPTURE_BYTES_PER_PIXEL: Record<AgentConfig['capture']['source'], number> = {
  synthetic: 3,
  rpicam: 4.5,
  raspistill: 9,
  files: 10,
}
/** JPEG bytes per sample at the finest tables (measured, see above). */
export const JPEG_BYTES_PER_SAMPLE = 0.6
/**
 * Per pixel column: strips of one MCU row per component, the kernel's source rows, one row of blocks, and the islow
 * kernel's coefficient slots for that row (3/8 of a block per column x 136 bytes: 51).
 */
const ROW_BUFFER_BYTES_PER_COLUMN = 211
/** Heap an encode grows into whatever the frame size (about 1.5-2 MB measured at 256x256 and 640x480). */
const ENCODER_FIXED_BYTES = 2 * MiB

export interface FrameMemory {
  /** Bytes, each part as documented above. */
  capture: number
  encoder: number
  output: number
  inflight: number
  total: number
}

export function estimateFrameMemory(c: AgentConfig): FrameMemory {
  const px = c.capture.width * c.capture.height
  const synthetic420 = c.capture.source === 'synthetic' && c.encoder.subsampling === '420'
  const capture = px * (synthetic420 ? 1.5 : CAPTURE_BYTES_PER_PIXEL[c.capture.source])
  const samples = px * (c.encoder.subsampling === '444' && c.capture.source !== 'rpicam' ? 3 : 1.5)
  const coefficients = c.encoder.optimizeHuffman || c.encoder.progressive ? samples * 2 + (samples / 64) * 5 : 0
  const encoder = ENCODER_FIXED_BYTES + c.capture.width * ROW_BUFFER_BYTES_PER_COLUMN + coefficients
  const jpeg = samples * JPEG_BYTES_PER_SAMPLE
  const output = 3 * jpeg
  const published = c.mqtt.maxPayloadBytes ? Math.min(jpeg, c.mqtt.maxPayloadBytes) : jpeg
  const inflight = c.mqtt.inflight * 2 * published
  const parts = { capture, encoder, output, inflight }
  const total = Math.ceil(capture + encoder + output + inflight)
  return { ...parts, total }
}

/**
 * The memory this process may use: the machine's RAM, or the cgroup limit when one is set and smaller (the systemd
 * unit's MemoryMax=256M on a Pi with more RAM).
 */
export function deviceMemoryBytes(): number {
  const ram = totalmem()
  const limit = process.constrainedMemory?.() ?? 0 // cgroup limit; 0, undefined or about 2^64 when there is none
  return limit > 0 && limit < ram ? limit : ram
}

/** `capture.memoryBudgetMB` 0 = half the device's memory: leaves the other half to the agent's baseline and the OS. */
export function defaultMemoryBudgetMB(): number {
  return Math.max(1, Math.floor(deviceMemoryBytes() / 2 / MiB))
}

const mb = (bytes: number): string => `${Math.ceil(bytes / MiB)} MB`

/**
 * Throws a ConfigError naming the keys when `next` would hold more frame memory than `capture.memoryBudgetMB`
 * and more than `current` does: a change that does not grow frame memory is never refused, so a local
 * configuration the owner set above the budget still takes remote changes that keep within it.
 */
export function checkFrameMemory(next: AgentConfig, current?: AgentConfig): void {
  const budget = next.capture.memoryBudgetMB * MiB
  const est = estimateFrameMemory(next)
  if (est.total <= budget) return
  if (current && est.total <= estimateFrameMemory(current).total) return
  const c = next.capture
  throw new ConfigError(
    `frame memory for ${c.width}x${c.height} from '${c.source}' would be about ${mb(est.total)} (capture ${mb(est.capture)}, ` +
      `encoder ${mb(est.encoder)}, JPEG output ${mb(est.output)}, ${next.mqtt.inflight} in flight ${mb(est.inflight)}), over the budget of ` +
      `${mb(budget)} ('capture.memoryBudgetMB', set on the device): lower 'capture.width'/'capture.height' or 'mqtt.inflight', ` +
      `or set 'mqtt.maxPayloadBytes'`,
  )
}

/** A one-line description of a configuration's frame memory against its budget, for the start-up log. */
export function describeFrameMemory(c: AgentConfig): string {
  const est = estimateFrameMemory(c)
  return `frame memory up to ${mb(est.total)} of the ${c.capture.memoryBudgetMB} MB budget ('capture.memoryBudgetMB')`
}

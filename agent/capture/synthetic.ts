import type { RawImage } from '../../shared/codec/types'
import type { FrameSource } from './source'
import { CaptureAbortedError } from './errors'

/**
 * Frame `n` of the moving test pattern, deterministic in (width, height, n): smooth gradients (cheap for JPEG),
 * a disc and a bar that move, a fine checkerboard patch and per-pixel sensor-like noise (expensive for JPEG),
 * so encoded sizes look like a real camera's rather than a flat card's. Written into `into` when given (it must
 * hold exactly width x height x 3 bytes), else into new memory.
 */
export function syntheticFrame(width: number, height: number, n: number, into?: Uint8Array): RawImage {
  const bytes = width * height * 3
  if (into && into.byteLength !== bytes) throw new RangeError(`syntheticFrame: 'into' holds ${into.byteLength} bytes, a ${width}x${height} RGB frame needs ${bytes}`)
  // Clamped stores do the 0..255 saturation; the RawImage gets a plain Uint8Array view of the same memory.
  const data = into ? new Uint8ClampedArray(into.buffer, into.byteOffset, bytes) : new Uint8ClampedArray(bytes)
  const cx = ((n * 7) % (width + 80)) - 40 // disc moves right, wraps
  const cy = height * 0.5 + Math.sin(n / 9) * height * 0.25
  const r = Math.max(4, Math.min(width, height) / 8)
  const r2 = r * r
  const barY = (n * 3) % height // horizontal bar moves down
  const barH = Math.max(2, height >> 4)
  const patchX0 = width >> 2, patchX1 = patchX0 + (width >> 3)
  const patchY0 = height >> 2, patchY1 = patchY0 + (height >> 3)
  const shade = (n * 5) & 255
  const gx = new Uint8Array(width)
  for (let x = 0; x < width; x++) gx[x] = ((x * 255) / (width - 1 || 1)) | 0
  const noise = noiseTable()
  for (let y = 0, i = 0; y < height; y++) {
    const gy = ((y * 255) / (height - 1 || 1)) | 0
    const dy2 = (y - cy) * (y - cy)
    const inBar = y >= barY && y < barY + barH
    const inPatchRow = y >= patchY0 && y < patchY1
    // Row offset into the noise table: differs per row and per frame, so the grain moves like sensor noise.
    const nrow = (Math.imul(y, 7919) + Math.imul(n, 104729)) & NOISE_MASK
    for (let x = 0; x < width; x++, i += 3) {
      let red = gx[x], green = gy, blue = (gx[x] + gy + shade) & 255
      if ((x - cx) * (x - cx) + dy2 <= r2) { red = 240; green = 200; blue = 30 }
      else if (inBar) { red = 20; green = 90; blue = 220 }
      else if (inPatchRow && x >= patchX0 && x < patchX1) { const on = ((x >> 1) ^ (y >> 1)) & 1; red = green = blue = on ? 230 : 25 }
      const k = (nrow + x * 3) & NOISE_MASK
      data[i] = red + noise[k]; data[i + 1] = green + noise[k + 1]; data[i + 2] = blue + noise[k + 2]
    }
  }
  return { width, height, format: 'rgb', data: into ?? new Uint8Array(data.buffer) }
}

const NOISE_SIZE = 1 << 16
const NOISE_MASK = NOISE_SIZE - 1
let noiseCache: Int8Array | null = null
/** Fixed pseudo-random grain in [-8, 7] (integer hash, so identical on every run and machine). */
function noiseTable(): Int8Array {
  if (noiseCache) return noiseCache
  const t = new Int8Array(NOISE_SIZE + 2) // +2: k + 2 may run past the mask
  for (let i = 0; i < t.length; i++) {
    let h = Math.imul(i, 0x27d4eb2d) ^ 0x165667b1
    h = Math.imul(h ^ (h >>> 15), 0x85ebca6b)
    h ^= h >>> 13
    t[i] = ((h >>> 24) & 15) - 8
  }
  noiseCache = t
  return t
}

/**
 * The embedded default camera: a moving test pattern, one frame per capture() call. A frame handed back with
 * release() is drawn over by the next capture() instead of allocating another (6 MB at 1080p).
 */
export class SyntheticSource implements FrameSource {
  readonly kind = 'synthetic'
  private frame = 0
  /** The memory of the last frame given out, and whether it came back. */
  private lent?: Uint8Array
  private spare?: Uint8Array
  constructor(private readonly width: number, private readonly height: number) {}

  async capture(signal?: AbortSignal): Promise<RawImage> {
    if (signal?.aborted) throw new CaptureAbortedError('synthetic: capture aborted')
    const into = this.spare
    this.spare = undefined
    const image = syntheticFrame(this.width, this.height, this.frame++, into)
    this.lent = image.data
    return image
  }

  release(image: RawImage): void {
    if (image.data !== this.lent) return // only memory this source gave out last, and only once
    this.spare = this.lent
    this.lent = undefined
  }

  async close(): Promise<void> {}
}

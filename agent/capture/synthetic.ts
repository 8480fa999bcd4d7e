import type { RawImage } from '../../shared/codec/types'
import type { FrameSource } from './source'
import { CaptureAbortedError } from './errors'

/**
 * Frame `n` of the moving test pattern, deterministic in (width, height, n): smooth gradients (cheap for JPEG),
 * a disc and a bar that move, a fine checkerboard patch and per-pixel sensor-like noise (expensive for JPEG),
 * so encoded sizes look like a real camera's rather than a flat card's.
 */
export function syntheticFrame(width: number, height: number, n: number): RawImage {
  const data = new Uint8Array(width * height * 3)
  const cx = ((n * 7) % (width + 80)) - 40 // disc moves right, wraps
  const cy = height * 0.5 + Math.sin(n / 9) * height * 0.25
  const r = Math.max(4, Math.min(width, height) / 8)
  const r2 = r * r
  const barY = (n * 3) % height // horizontal bar moves down
  const barH = Math.max(2, height >> 4)
  const patchX0 = width >> 2, patchX1 = patchX0 + (width >> 3)
  const patchY0 = height >> 2, patchY1 = patchY0 + (height >> 3)
  const shade = (n * 5) & 255
  const seed = Math.imul(n + 1, 0x9e3779b1)
  for (let y = 0, i = 0; y < height; y++) {
    const gy = ((y * 255) / (height - 1 || 1)) | 0
    const dy2 = (y - cy) * (y - cy)
    const inBar = y >= barY && y < barY + barH
    const inPatchRow = y >= patchY0 && y < patchY1
    for (let x = 0; x < width; x++, i += 3) {
      const gx = ((x * 255) / (width - 1 || 1)) | 0
      let red = gx, green = gy, blue = (gx + gy + shade) & 255
      if ((x - cx) * (x - cx) + dy2 <= r2) { red = 240; green = 200; blue = 30 }
      else if (inBar) { red = 20; green = 90; blue = 220 }
      else if (inPatchRow && x >= patchX0 && x < patchX1) { const on = ((x >> 1) ^ (y >> 1)) & 1; red = green = blue = on ? 230 : 25 }
      // Integer hash noise in [-8, 7].
      let h = Math.imul(x, 0x27d4eb2d) ^ Math.imul(y, 0x165667b1) ^ seed
      h = Math.imul(h ^ (h >>> 15), 0x85ebca6b)
      const noise = ((h >>> 24) & 15) - 8
      data[i] = clamp(red + noise); data[i + 1] = clamp(green + noise); data[i + 2] = clamp(blue + (((h >>> 16) & 15) - 8))
    }
  }
  return { width, height, format: 'rgb', data }
}

const clamp = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v)

/** The embedded default camera: a moving test pattern, one frame per capture() call. */
export class SyntheticSource implements FrameSource {
  readonly kind = 'synthetic'
  private frame = 0
  constructor(private readonly width: number, private readonly height: number) {}

  async capture(signal?: AbortSignal): Promise<RawImage> {
    if (signal?.aborted) throw new CaptureAbortedError('synthetic: capture aborted')
    return syntheticFrame(this.width, this.height, this.frame++)
  }

  async close(): Promise<void> {}
}

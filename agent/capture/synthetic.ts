import type { RawImage } from '../../shared/codec/types'
import type { FrameSource } from './source'
import { CaptureAbortedError } from './errors'
import { rgbToYcc420Pair } from '../../shared/codec/color'

/**
 * Frame `n` of the moving test pattern, deterministic in (width, height, n): smooth gradients (cheap for JPEG),
 * a disc and a bar that move, a fine checkerboard patch and per-pixel sensor-like noise (expensive for JPEG),
 * so encoded sizes look like a real camera's rather than a flat card's. Written into `into` when given (it must
 * hold exactly width x height x 3 bytes), else into new memory.
 */
export function syntheticFrame(width: number, height: number, n: number, into?: Uint8Array): RawImage {
  const bytes = width * height * 3
  if (into && into.byteLength !== bytes)
    throw new RangeError(
      `syntheticFrame: 'into' holds ${into.byteLength} bytes, a ${width}x${height} RGB frame needs ${bytes}`,
    )
  const data = into ?? new Uint8Array(bytes)
  const p = pattern(width, height, n)
  for (let y = 0; y < height; y++) drawRow(p, y, data, y * width * 3)
  return { width, height, format: 'rgb', data }
}

/**
 * The same frame as planar I420 (`yuv420p`, what rpicam hands over): each pair of pattern rows is converted and
 * downsampled exactly as the encoder's RGB path does it (libjpeg's jccolor + h2v2_downsample), so a 4:2:0 encode
 * of this frame is byte-identical to one of syntheticFrame()'s, with half the memory and no colour conversion
 * per frame in the encoder. `into` must hold width x height + 2 x ceil(width/2) x ceil(height/2) bytes.
 */
export function syntheticFrameI420(width: number, height: number, n: number, into?: Uint8Array): RawImage {
  const cw = (width + 1) >> 1,
    ch = (height + 1) >> 1
  const bytes = width * height + 2 * cw * ch
  if (into && into.byteLength !== bytes)
    throw new RangeError(
      `syntheticFrameI420: 'into' holds ${into.byteLength} bytes, a ${width}x${height} I420 frame needs ${bytes}`,
    )
  const data = into ?? new Uint8Array(bytes)
  const y = data.subarray(0, width * height)
  const u = data.subarray(width * height, width * height + cw * ch)
  const v = data.subarray(width * height + cw * ch)
  const p = pattern(width, height, n)
  const pair = rowPair(width)
  for (let row = 0; row < height; row += 2) {
    drawRow(p, row, pair, 0)
    const second = row + 1 < height
    if (second) drawRow(p, row + 1, pair, width * 3)
    // The bottom row of an odd height pairs with itself, as libjpeg's expand_bottom_edge does.
    rgbToYcc420Pair(
      pair,
      3,
      width,
      0,
      second ? width * 3 : 0,
      y,
      row * width,
      second ? (row + 1) * width : row * width,
      width,
      u,
      v,
      (row >> 1) * cw,
      cw,
    )
  }
  return { width, height, format: 'yuv420p', data }
}

/** Two RGB rows of scratch, kept between frames of the same width (no per-frame allocation). */
let pairCache: Uint8Array | null = null
function rowPair(width: number): Uint8Array {
  if (pairCache?.length !== width * 6) pairCache = new Uint8Array(width * 6)
  return pairCache
}

/** Frame `n`'s geometry of the pattern, computed once per frame and read by drawRow for each row. */
interface Pattern {
  width: number
  height: number
  n: number
  cx: number
  cy: number
  r2: number
  barY: number
  barH: number
  patchX0: number
  patchX1: number
  patchY0: number
  patchY1: number
  shade: number
  gx: Uint8Array
  noise: Int8Array
}

function pattern(width: number, height: number, n: number): Pattern {
  const r = Math.max(4, Math.min(width, height) / 8)
  const patchX0 = width >> 2,
    patchY0 = height >> 2
  return {
    width,
    height,
    n,
    cx: ((n * 7) % (width + 80)) - 40, // disc moves right, wraps
    cy: height * 0.5 + Math.sin(n / 9) * height * 0.25,
    r2: r * r,
    barY: (n * 3) % height, // horizontal bar moves down
    barH: Math.max(2, height >> 4),
    patchX0,
    patchX1: patchX0 + (width >> 3),
    patchY0,
    patchY1: patchY0 + (height >> 3),
    shade: (n * 5) & 255,
    gx: gradient(width),
    noise: noiseTable(),
  }
}

/**
 * Draws row `y` of the pattern as RGB into `out` at byte `at`. One function for every frame rather than a closure
 * made per frame: the agent collects garbage after each large frame (pipeline/reclaim.ts) and V8 keeps a dead
 * closure's optimized code only weakly, so a per-frame closure lost it at every collection, drew the next frame's
 * first rows in the interpreter (about 1 MB of boxed numbers per 1080p frame) and was optimized again, every frame.
 */
function drawRow(p: Pattern, y: number, out: Uint8Array, at: number): void {
  const { width, height, n, cx, cy, r2, barY, barH, patchX0, patchX1, patchY0, patchY1, shade, gx, noise } = p
  const gy = ((y * 255) / (height - 1 || 1)) | 0
  const dy2 = (y - cy) * (y - cy)
  const inBar = y >= barY && y < barY + barH
  const inPatchRow = y >= patchY0 && y < patchY1
  // Row offset into the noise table: differs per row and per frame, so the grain moves like sensor noise.
  const nrow = (Math.imul(y, 7919) + Math.imul(n, 104729)) & NOISE_MASK
  for (let x = 0, i = at; x < width; x++, i += 3) {
    let red = gx[x],
      green = gy,
      blue = (gx[x] + gy + shade) & 255
    if ((x - cx) * (x - cx) + dy2 <= r2) {
      red = 240
      green = 200
      blue = 30
    } else if (inBar) {
      red = 20
      green = 90
      blue = 220
    } else if (inPatchRow && x >= patchX0 && x < patchX1) {
      const on = ((x >> 1) ^ (y >> 1)) & 1
      red = green = blue = on ? 230 : 25
    }
    const k = (nrow + x * 3) & NOISE_MASK
    out[i] = clamp(red + noise[k])
    out[i + 1] = clamp(green + noise[k + 1])
    out[i + 2] = clamp(blue + noise[k + 2])
  }
}

const clamp = (v: number): number => (v < 0 ? 0 : Math.min(v, 255))

let gradientCache: Uint8Array | null = null
function gradient(width: number): Uint8Array {
  if (gradientCache?.length === width) return gradientCache
  const gx = new Uint8Array(width)
  for (let x = 0; x < width; x++) gx[x] = ((x * 255) / (width - 1 || 1)) | 0
  return (gradientCache = gx)
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
 * The embedded default camera: a moving test pattern, one frame per capture() call, as RGB or as I420 (the
 * default for a 4:2:0 encoder, as rpicam delivers: half the memory, 3 MB instead of 6 at 1080p). A frame handed
 * back with release() is drawn over by the next capture() instead of allocating another.
 */
export class SyntheticSource implements FrameSource {
  readonly kind = 'synthetic'
  private frame = 0
  /** The memory of the last frame given out, and whether it came back. */
  private lent?: Uint8Array
  private spare?: Uint8Array
  constructor(
    private readonly width: number,
    private readonly height: number,
    private readonly format: 'rgb' | 'yuv420p' = 'rgb',
  ) {}

  async capture(signal?: AbortSignal): Promise<RawImage> {
    if (signal?.aborted) throw new CaptureAbortedError('synthetic: capture aborted')
    const into = this.spare
    this.spare = undefined
    const draw = this.format === 'yuv420p' ? syntheticFrameI420 : syntheticFrame
    const image = draw(this.width, this.height, this.frame++, into)
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

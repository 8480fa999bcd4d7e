import type { RawImage } from '../../shared/codec/types'

/**
 * Where the planes of a contiguous I420 buffer are. libcamera lays out Y (h rows of `strideY`), then U and V
 * (ceil(h/2) rows of `strideC` each); rows carry padding beyond the pixels when the stride exceeds the width.
 */
export interface I420Layout {
  width: number
  height: number
  strideY: number
  strideC: number
  /** Bytes of the whole frame as the tool writes it (may include bytes after V). */
  frameBytes: number
}

export const chromaWidth = (w: number): number => Math.ceil(w / 2)
export const chromaHeight = (h: number): number => Math.ceil(h / 2)

/** Bytes of the planes themselves for a given Y stride (chroma stride = Y stride / 2, as libcamera does). */
export function i420PlaneBytes(
  width: number,
  height: number,
  strideY: number,
  strideC = strideY === width ? chromaWidth(width) : strideY / 2,
): number {
  return strideY * height + 2 * strideC * chromaHeight(height)
}

export const packedI420Bytes = (w: number, h: number): number => w * h + 2 * chromaWidth(w) * chromaHeight(h)

const align = (v: number, a: number): number => Math.ceil(v / a) * a

/** The layout for a known Y stride. */
export function layoutForStride(width: number, height: number, strideY: number): I420Layout {
  if (!Number.isInteger(strideY) || strideY < width)
    throw new Error(`I420 stride ${strideY} is smaller than the width ${width}`)
  const strideC = strideY === width ? chromaWidth(width) : strideY / 2
  if (!Number.isInteger(strideC) || strideC < chromaWidth(width))
    throw new Error(`I420 stride ${strideY} gives a chroma stride that cannot hold ${chromaWidth(width)} samples`)
  return { width, height, strideY, strideC, frameBytes: i420PlaneBytes(width, height, strideY, strideC) }
}

/**
 * Work out the stride from the size of one frame: tightly packed (rpicam-still), or rows padded to a stride
 * (rpicam-vid's raw buffers). Returns null when `frameBytes` fits no I420 layout for width × height.
 */
export function deriveI420Layout(frameBytes: number, width: number, height: number): I420Layout | null {
  if (frameBytes === packedI420Bytes(width, height)) return layoutForStride(width, height, width)
  // Padded: strideY * (h + ceil(h/2)) bytes with an even stride >= width.
  const rows = height + chromaHeight(height)
  if (frameBytes % rows === 0) {
    const strideY = frameBytes / rows
    if (strideY >= width && strideY % 2 === 0) return layoutForStride(width, height, strideY)
  }
  // A buffer rounded up beyond the planes (at most 16 rows of slack): accept the strides libcamera uses on the Pi.
  for (const a of [64, 32]) {
    const strideY = align(width, a)
    const need = i420PlaneBytes(width, height, strideY, strideY / 2)
    if (need <= frameBytes && frameBytes - need < strideY * 16)
      return { ...layoutForStride(width, height, strideY), frameBytes }
  }
  return null
}

/** Copy the pixels out of a padded I420 frame into a tightly packed yuv420p RawImage. Padding never leaks. */
export function packI420(src: Uint8Array, layout: I420Layout, offset = 0): RawImage {
  const { width: w, height: h, strideY, strideC } = layout
  if (src.length - offset < i420PlaneBytes(w, h, strideY, strideC)) {
    throw new Error(
      `I420 frame truncated: ${src.length - offset} of ${i420PlaneBytes(w, h, strideY, strideC)} bytes for ${w}x${h} stride ${strideY}`,
    )
  }
  const cw = chromaWidth(w)
  const ch = chromaHeight(h)
  const out = new Uint8Array(packedI420Bytes(w, h))
  if (strideY === w && strideC === cw) {
    out.set(src.subarray(offset, offset + out.length))
    return { width: w, height: h, format: 'yuv420p', data: out }
  }
  let o = 0
  for (let y = 0; y < h; y++, o += w) out.set(src.subarray(offset + y * strideY, offset + y * strideY + w), o)
  const u = offset + strideY * h
  const v = u + strideC * ch
  for (const plane of [u, v]) {
    for (let y = 0; y < ch; y++, o += cw) out.set(src.subarray(plane + y * strideC, plane + y * strideC + cw), o)
  }
  return { width: w, height: h, format: 'yuv420p', data: out }
}

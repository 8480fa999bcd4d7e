/**
 * Frame geometry as libjpeg computes it (jcmaster initial_setup / per_scan_setup): components, sampling
 * factors, blocks per component, MCU grid and where dummy blocks appear. Pure.
 */
import type { PixelFormat, Subsampling } from './types'

export interface ComponentLayout {
  /** JPEG component id (1 = Y, 2 = Cb, 3 = Cr). */
  id: number
  h: number
  v: number
  /** 0 = luma table, 1 = chroma table (also the Huffman table slot). */
  table: number
  /** Real blocks (ceil of the downsampled size / 8). */
  widthInBlocks: number
  heightInBlocks: number
  /** Samples per strip row: widthInBlocks * 8 (the padded row the DCT reads). */
  stripWidth: number
  /** Sample rows per iMCU row: v * 8. */
  stripHeight: number
}

export interface FrameLayout {
  width: number
  height: number
  components: ComponentLayout[]
  maxH: number
  maxV: number
  mcusPerRow: number
  mcuRows: number
  /** Blocks per MCU and the component of each (MCU_membership). */
  blocksInMcu: number
  membership: Uint8Array
}

function ceilDiv(a: number, b: number): number {
  return Math.floor((a + b - 1) / b)
}

/** Layout for `format` (gray → one component) and `subsampling` (ignored for gray; yuv420p is always 420). */
export function frameLayout(width: number, height: number, format: PixelFormat, subsampling: Subsampling): FrameLayout {
  const gray = format === 'gray'
  const s420 = format === 'yuv420p' || (!gray && subsampling === '420')
  const factors = gray
    ? [[1, 1]]
    : s420
      ? [
          [2, 2],
          [1, 1],
          [1, 1],
        ]
      : [
          [1, 1],
          [1, 1],
          [1, 1],
        ]
  const maxH = s420 ? 2 : 1
  const maxV = s420 ? 2 : 1
  const components = factors.map(([h, v], i): ComponentLayout => {
    const widthInBlocks = ceilDiv(width * h, maxH * 8)
    const heightInBlocks = ceilDiv(height * v, maxV * 8)
    return {
      id: i + 1,
      h,
      v,
      table: i === 0 ? 0 : 1,
      widthInBlocks,
      heightInBlocks,
      stripWidth: widthInBlocks * 8,
      stripHeight: v * 8,
    }
  })
  const membership: number[] = []
  components.forEach((c, i) => {
    for (let k = 0; k < c.h * c.v; k++) membership.push(i)
  })
  return {
    width,
    height,
    components,
    maxH,
    maxV,
    mcusPerRow: ceilDiv(width, maxH * 8),
    mcuRows: ceilDiv(height, maxV * 8),
    blocksInMcu: membership.length,
    membership: Uint8Array.from(membership),
  }
}

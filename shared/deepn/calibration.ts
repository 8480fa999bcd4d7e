/**
 * Frequency analysis for DeepN tables: feeds every 8x8 block the encoder itself would quantize (its colour
 * conversion, 4:2:0 downsampling, edge padding, level shift and islow DCT descaled to orthonormal units, via
 * shared/codec/blocks) into streaming σ accumulators, luma and chroma (Cb and Cr pooled, as they share one table).
 * The encoder's DCT rather than an exact float DCT so the statistics describe exactly the values the tables will
 * divide; islow differs from the exact DCT by under one unit, far below any σ that matters. Pure, constant memory.
 */
import { forEachDctBlockFloat } from '../codec/blocks'
import type { RawImage, Subsampling } from '../codec/types'
import { SigmaAccumulator } from './sigma'
import type { CalibrationStats } from './table-file'

export class Calibration {
  readonly luma = new SigmaAccumulator()
  readonly chroma = new SigmaAccumulator()
  images = 0

  constructor(readonly subsampling: Subsampling = '420') {}

  addImage(img: RawImage): void {
    forEachDctBlockFloat(img, this.subsampling, (component, coef) =>
      (component === 0 ? this.luma : this.chroma).add(coef),
    )
    this.images++
  }

  merge(other: Calibration): void {
    this.luma.merge(other.luma)
    this.chroma.merge(other.chroma)
    this.images += other.images
  }

  stats(calibration: string): CalibrationStats {
    if (this.luma.count === 0) throw new Error('calibration saw no image blocks')
    return {
      calibration,
      lumaBlocks: this.luma.count,
      lumaSigma: this.luma.sigma(),
      ...(this.chroma.count > 0 ? { chromaBlocks: this.chroma.count, chromaSigma: this.chroma.sigma() } : {}),
    }
  }
}

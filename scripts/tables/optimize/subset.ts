import { mulberry32, sampleIndices } from '../../../shared/deepn/optimize'
import type { LabelledSet } from '../../eval/dataset'

/** A seeded sample of `n` images (sorted indices), so the slice is reproducible and not the IDX order's prefix. */
export function subset(set: LabelledSet, n: number, seed: number): LabelledSet {
  const idx = sampleIndices(set.count, n, mulberry32(seed))
  const per = set.width * set.height * set.channels
  const pixels = new Uint8Array(n * per)
  const labels = new Int32Array(n)
  idx.forEach((i, j) => {
    pixels.set(set.pixels.subarray(i * per, (i + 1) * per), j * per)
    labels[j] = set.labels[i]
  })
  return { ...set, name: `${set.name} sample(${n}, seed ${seed})`, count: n, pixels, labels }
}

/**
 * Downsampling and edge expansion as libjpeg's jcsample.c (h2v2_downsample, expand_right_edge) and jcprepct.c
 * (expand_bottom_edge). Pure; all functions work on rows inside caller-owned buffers.
 */

/** expand_right_edge: replicate the sample at `off + inCols - 1` up to `off + outCols`. */
export function expandRight(row: Uint8Array, off: number, inCols: number, outCols: number): void {
  if (outCols > inCols) row.fill(row[off + inCols - 1], off + inCols, off + outCols)
}

/** expand_bottom_edge: copy row `fromRow` (width `cols`, `stride` apart) into rows fromRow+1 .. toRow-1. */
export function expandBottom(plane: Uint8Array, stride: number, cols: number, fromRow: number, toRow: number): void {
  const src = fromRow * stride
  for (let r = fromRow + 1; r < toRow; r++) plane.copyWithin(r * stride, src, src + cols)
}

/**
 * h2v2_downsample for one output row: averages 2x2 input samples with the alternating 1,2,1,2 bias that keeps
 * libjpeg's rounding unbiased. Inputs must already be expanded to 2 * outCols samples (outCols even). The RGB
 * encode path fuses this with colour conversion (color.ts rgbToYcc420Pair); this is its tested reference.
 */
export function h2v2Row(
  in0: Uint8Array,
  off0: number,
  in1: Uint8Array,
  off1: number,
  out: Uint8Array,
  outOff: number,
  outCols: number,
): void {
  let i0 = off0,
    i1 = off1
  for (let c = 0; c < outCols; c += 2) {
    out[outOff + c] = (in0[i0] + in0[i0 + 1] + in1[i1] + in1[i1 + 1] + 1) >> 2
    out[outOff + c + 1] = (in0[i0 + 2] + in0[i0 + 3] + in1[i1 + 2] + in1[i1 + 3] + 2) >> 2
    i0 += 4
    i1 += 4
  }
}

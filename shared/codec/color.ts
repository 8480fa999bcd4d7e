/**
 * RGB → YCbCr exactly as libjpeg's jccolor.c: 16-bit fixed point (SCALEBITS 16, the values of its lookup tables), Y rounded with
 * ONE_HALF, Cb/Cr with ONE_HALF - 1 and CBCR_OFFSET so results stay in 0..255 without clamping. Pure.
 */
const SCALEBITS = 16
const CBCR_OFFSET = 128 << SCALEBITS
const ONE_HALF = 1 << (SCALEBITS - 1)
const fix = (x: number): number => Math.floor(x * (1 << SCALEBITS) + 0.5)

/** jccolor.c's table entries are FIX(c) * i, so plain multiplies by these give the same integers. */
const Y_R = fix(0.299),
  Y_G = fix(0.587),
  Y_B = fix(0.114)
const CB_R = fix(0.16874),
  CB_G = fix(0.33126),
  CB_B = fix(0.5)
const CR_R = fix(0.5),
  CR_G = fix(0.41869),
  CR_B = fix(0.08131)
const Y_ROUND = ONE_HALF
const C_ROUND = CBCR_OFFSET + ONE_HALF - 1

/** The same constants for code generators (the WebAssembly kernel); hot loops here use the locals above. */
export const Y_COEFFS = Object.freeze({ Y_R, Y_G, Y_B, CB_R, CB_G, CB_B, CR_R, CR_G, CR_B, Y_ROUND, C_ROUND })

/**
 * Converts `count` pixels starting at byte `src` of `data` (`stride` bytes per pixel: 3 rgb, 4 rgba) into
 * Y samples at `yOff` of `y` and Cb/Cr samples at `cOff` of `cb`/`cr`. Pass `cb`/`cr` = null for gray output
 * (rgb_gray_convert). All sums stay below 2^31.
 */
export function rgbToYccRow(
  data: Uint8Array,
  src: number,
  stride: number,
  count: number,
  y: Uint8Array,
  yOff: number,
  cb: Uint8Array | null,
  cr: Uint8Array | null,
  cOff: number,
): void {
  if (cb === null || cr === null) {
    for (let i = 0; i < count; i++, src += stride) {
      y[yOff + i] = (Y_R * data[src] + Y_G * data[src + 1] + Y_B * data[src + 2] + Y_ROUND) >> SCALEBITS
    }
    return
  }
  for (let i = 0; i < count; i++, src += stride) {
    const r = data[src],
      g = data[src + 1],
      b = data[src + 2]
    y[yOff + i] = (Y_R * r + Y_G * g + Y_B * b + Y_ROUND) >> SCALEBITS
    cb[cOff + i] = (CB_B * b - CB_R * r - CB_G * g + C_ROUND) >> SCALEBITS
    cr[cOff + i] = (CR_R * r - CR_G * g - CR_B * b + C_ROUND) >> SCALEBITS
  }
}

/**
 * jccolor + jcsample h2v2_downsample fused for one pixel-row pair: Y for both rows, and each Cb/Cr sample as
 * (sum of the four per-pixel values + bias 1,2,1,2...) >> 2, exactly the two-step result. Pixel columns past
 * the image replicate the last one (expand_right_edge), so `ys` rows are filled to `yw` and chroma to `cw`
 * samples; `rowB` may equal `rowA` at the bottom edge. `data` offsets are in bytes, `stride` bytes per pixel.
 * Chroma columns before `from` (and their Y samples) are left alone (the SIMD kernel did them).
 */
export function rgbToYcc420Pair(
  data: Uint8Array,
  stride: number,
  w: number,
  rowA: number,
  rowB: number,
  ys: Uint8Array,
  yA: number,
  yB: number,
  yw: number,
  cbs: Uint8Array,
  crs: Uint8Array,
  cOff: number,
  cw: number,
  from = 0,
): void {
  // Interior: both pixels of the pair are inside the image; no clamping, no branches.
  const inner = w >> 1
  const step = stride * 2
  let pa = rowA + from * step,
    pb = rowB + from * step
  let cx = from
  for (; cx < inner; cx++, pa += step, pb += step) {
    let r = data[pa],
      g = data[pa + 1],
      b = data[pa + 2]
    ys[yA + 2 * cx] = (Y_R * r + Y_G * g + Y_B * b + Y_ROUND) >> SCALEBITS
    let cb = (CB_B * b - CB_R * r - CB_G * g + C_ROUND) >> SCALEBITS
    let cr = (CR_R * r - CR_G * g - CR_B * b + C_ROUND) >> SCALEBITS
    r = data[pa + stride]
    g = data[pa + stride + 1]
    b = data[pa + stride + 2]
    ys[yA + 2 * cx + 1] = (Y_R * r + Y_G * g + Y_B * b + Y_ROUND) >> SCALEBITS
    cb += (CB_B * b - CB_R * r - CB_G * g + C_ROUND) >> SCALEBITS
    cr += (CR_R * r - CR_G * g - CR_B * b + C_ROUND) >> SCALEBITS
    r = data[pb]
    g = data[pb + 1]
    b = data[pb + 2]
    ys[yB + 2 * cx] = (Y_R * r + Y_G * g + Y_B * b + Y_ROUND) >> SCALEBITS
    cb += (CB_B * b - CB_R * r - CB_G * g + C_ROUND) >> SCALEBITS
    cr += (CR_R * r - CR_G * g - CR_B * b + C_ROUND) >> SCALEBITS
    r = data[pb + stride]
    g = data[pb + stride + 1]
    b = data[pb + stride + 2]
    ys[yB + 2 * cx + 1] = (Y_R * r + Y_G * g + Y_B * b + Y_ROUND) >> SCALEBITS
    cb += (CB_B * b - CB_R * r - CB_G * g + C_ROUND) >> SCALEBITS
    cr += (CR_R * r - CR_G * g - CR_B * b + C_ROUND) >> SCALEBITS
    const bias = 1 + (cx & 1)
    cbs[cOff + cx] = (cb + bias) >> 2
    crs[cOff + cx] = (cr + bias) >> 2
  }
  // Right edge: pixel columns past the image replicate the last one (expand_right_edge).
  const last = (w - 1) * stride
  for (; cx < cw; cx++) {
    const x0 = cx * 2
    const o0 = x0 < w ? x0 * stride : last
    const o1 = last
    let r = data[rowA + o0],
      g = data[rowA + o0 + 1],
      b = data[rowA + o0 + 2]
    let cb = (CB_B * b - CB_R * r - CB_G * g + C_ROUND) >> SCALEBITS
    let cr = (CR_R * r - CR_G * g - CR_B * b + C_ROUND) >> SCALEBITS
    const y00 = (Y_R * r + Y_G * g + Y_B * b + Y_ROUND) >> SCALEBITS
    r = data[rowA + o1]
    g = data[rowA + o1 + 1]
    b = data[rowA + o1 + 2]
    cb += (CB_B * b - CB_R * r - CB_G * g + C_ROUND) >> SCALEBITS
    cr += (CR_R * r - CR_G * g - CR_B * b + C_ROUND) >> SCALEBITS
    const y01 = (Y_R * r + Y_G * g + Y_B * b + Y_ROUND) >> SCALEBITS
    r = data[rowB + o0]
    g = data[rowB + o0 + 1]
    b = data[rowB + o0 + 2]
    cb += (CB_B * b - CB_R * r - CB_G * g + C_ROUND) >> SCALEBITS
    cr += (CR_R * r - CR_G * g - CR_B * b + C_ROUND) >> SCALEBITS
    const y10 = (Y_R * r + Y_G * g + Y_B * b + Y_ROUND) >> SCALEBITS
    r = data[rowB + o1]
    g = data[rowB + o1 + 1]
    b = data[rowB + o1 + 2]
    cb += (CB_B * b - CB_R * r - CB_G * g + C_ROUND) >> SCALEBITS
    cr += (CR_R * r - CR_G * g - CR_B * b + C_ROUND) >> SCALEBITS
    const y11 = (Y_R * r + Y_G * g + Y_B * b + Y_ROUND) >> SCALEBITS
    const bias = 1 + (cx & 1)
    cbs[cOff + cx] = (cb + bias) >> 2
    crs[cOff + cx] = (cr + bias) >> 2
    if (x0 < yw) {
      ys[yA + x0] = y00
      ys[yB + x0] = y10
      if (x0 + 1 < yw) {
        ys[yA + x0 + 1] = y01
        ys[yB + x0 + 1] = y11
      }
    }
  }
}

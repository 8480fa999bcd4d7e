/**
 * RGB → YCbCr exactly as libjpeg's jccolor.c: 16-bit fixed point (SCALEBITS 16, the values of its lookup tables), Y rounded with
 * ONE_HALF, Cb/Cr with ONE_HALF - 1 and CBCR_OFFSET so results stay in 0..255 without clamping. Pure.
 */
const SCALEBITS = 16
const CBCR_OFFSET = 128 << SCALEBITS
const ONE_HALF = 1 << (SCALEBITS - 1)
const fix = (x: number): number => Math.floor(x * (1 << SCALEBITS) + 0.5)

/** jccolor.c's table entries are FIX(c) * i, so plain multiplies by these give the same integers. */
const Y_R = fix(0.299), Y_G = fix(0.587), Y_B = fix(0.114)
const CB_R = fix(0.16874), CB_G = fix(0.33126), CB_B = fix(0.5)
const CR_R = fix(0.5), CR_G = fix(0.41869), CR_B = fix(0.08131)
const Y_ROUND = ONE_HALF
const C_ROUND = CBCR_OFFSET + ONE_HALF - 1

/**
 * Converts `count` pixels starting at byte `src` of `data` (`stride` bytes per pixel: 3 rgb, 4 rgba) into
 * Y samples at `yOff` of `y` and Cb/Cr samples at `cOff` of `cb`/`cr`. Pass `cb`/`cr` = null for gray output
 * (rgb_gray_convert). All sums stay below 2^31.
 */
export function rgbToYccRow(
  data: Uint8Array, src: number, stride: number, count: number,
  y: Uint8Array, yOff: number, cb: Uint8Array | null, cr: Uint8Array | null, cOff: number,
): void {
  if (cb === null || cr === null) {
    for (let i = 0; i < count; i++, src += stride) {
      y[yOff + i] = (Y_R * data[src] + Y_G * data[src + 1] + Y_B * data[src + 2] + Y_ROUND) >> SCALEBITS
    }
    return
  }
  for (let i = 0; i < count; i++, src += stride) {
    const r = data[src], g = data[src + 1], b = data[src + 2]
    y[yOff + i] = (Y_R * r + Y_G * g + Y_B * b + Y_ROUND) >> SCALEBITS
    cb[cOff + i] = (CB_B * b - CB_R * r - CB_G * g + C_ROUND) >> SCALEBITS
    cr[cOff + i] = (CR_R * r - CR_G * g - CR_B * b + C_ROUND) >> SCALEBITS
  }
}

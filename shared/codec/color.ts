/**
 * RGB → YCbCr exactly as libjpeg's jccolor.c: 16-bit fixed point lookup tables (SCALEBITS 16), Y rounded with
 * ONE_HALF, Cb/Cr with ONE_HALF - 1 and CBCR_OFFSET so results stay in 0..255 without clamping. Pure.
 */
const SCALEBITS = 16
const CBCR_OFFSET = 128 << SCALEBITS
const ONE_HALF = 1 << (SCALEBITS - 1)
const fix = (x: number): number => Math.floor(x * (1 << SCALEBITS) + 0.5)

/** Table offsets: 8 tables of 256 entries in one Int32Array (R→Cr shares B→Cb, as in jccolor.c). */
export const R_Y = 0, G_Y = 256, B_Y = 512, R_CB = 768, G_CB = 1024, B_CB = 1280, G_CR = 1536, B_CR = 1792
export const R_CR = B_CB

/** rgb_ycc_start's tables. */
export const YCC_TABLE: Int32Array = (() => {
  const t = new Int32Array(2048)
  for (let i = 0; i < 256; i++) {
    t[R_Y + i] = fix(0.299) * i
    t[G_Y + i] = fix(0.587) * i
    t[B_Y + i] = fix(0.114) * i + ONE_HALF
    t[R_CB + i] = -fix(0.16874) * i
    t[G_CB + i] = -fix(0.33126) * i
    t[B_CB + i] = fix(0.5) * i + CBCR_OFFSET + ONE_HALF - 1
    t[G_CR + i] = -fix(0.41869) * i
    t[B_CR + i] = -fix(0.08131) * i
  }
  return t
})()

/**
 * Converts `count` pixels starting at byte `src` of `data` (`stride` bytes per pixel: 3 rgb, 4 rgba) into
 * Y samples at `yOff` of `y` and Cb/Cr samples at `cOff` of `cb`/`cr`. Pass `cb`/`cr` = null for gray output (rgb_gray_convert).
 */
export function rgbToYccRow(
  data: Uint8Array, src: number, stride: number, count: number,
  y: Uint8Array, yOff: number, cb: Uint8Array | null, cr: Uint8Array | null, cOff: number,
): void {
  const t = YCC_TABLE
  if (cb === null || cr === null) {
    for (let i = 0; i < count; i++, src += stride) {
      y[yOff + i] = (t[data[src]] + t[G_Y + data[src + 1]] + t[B_Y + data[src + 2]]) >> SCALEBITS
    }
    return
  }
  for (let i = 0; i < count; i++, src += stride) {
    const r = data[src], g = data[src + 1], b = data[src + 2]
    y[yOff + i] = (t[r] + t[G_Y + g] + t[B_Y + b]) >> SCALEBITS
    cb[cOff + i] = (t[R_CB + r] + t[G_CB + g] + t[B_CB + b]) >> SCALEBITS
    cr[cOff + i] = (t[R_CR + r] + t[G_CR + g] + t[B_CR + b]) >> SCALEBITS
  }
}

/**
 * Marker segments as libjpeg's jcmarker.c writes them: SOI, JFIF APP0 (1.01, no density unit, 1:1), then our
 * optional APP9, one DQT per table, SOF0 (baseline) or SOF2 (progressive), then per scan its DHTs, DRI and SOS.
 * Pure.
 */
import type { HuffmanSpec } from './huffman'
import type { ComponentLayout, FrameLayout } from './layout'
import { ZIGZAG } from './tables'

export const SOI = [0xff, 0xd8]
export const EOI = [0xff, 0xd9]

/** emit_jfif_app0 with cjpeg's defaults. */
export const JFIF_APP0 = [
  0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
]

/** emit_dqt: 8-bit precision table `index`, entries in zigzag order. */
export function dqt(index: number, table: ArrayLike<number>): number[] {
  const out = [0xff, 0xdb, 0x00, 67, index]
  for (let k = 0; k < 64; k++) out.push(table[ZIGZAG[k]])
  return out
}

/** emit_sof(M_SOF0). */
export function sof0(layout: FrameLayout): number[] {
  return sof(0xc0, layout)
}

/** emit_sof(M_SOF2): the same frame header, marked progressive. */
export function sof2(layout: FrameLayout): number[] {
  return sof(0xc2, layout)
}

function sof(marker: number, layout: FrameLayout): number[] {
  const n = layout.components.length
  const len = 8 + 3 * n
  const out = [
    0xff,
    marker,
    len >> 8,
    len & 0xff,
    8,
    layout.height >> 8,
    layout.height & 0xff,
    layout.width >> 8,
    layout.width & 0xff,
    n,
  ]
  for (const c of layout.components) out.push(c.id, (c.h << 4) | c.v, c.table)
  return out
}

/** emit_dht: `index` 0/1, `ac` sets the table class. */
export function dht(index: number, ac: boolean, t: HuffmanSpec): number[] {
  let count = 0
  for (let i = 1; i <= 16; i++) count += t.bits[i]
  const len = 2 + 1 + 16 + count
  const out = [0xff, 0xc4, len >> 8, len & 0xff, (ac ? 0x10 : 0) | index]
  for (let i = 1; i <= 16; i++) out.push(t.bits[i])
  for (let i = 0; i < count; i++) out.push(t.huffval[i])
  return out
}

/** emit_dri. */
export function dri(interval: number): number[] {
  return [0xff, 0xdd, 0x00, 0x04, interval >> 8, interval & 0xff]
}

/** emit_sos for one interleaved baseline scan of all components (Ss 0, Se 63, Ah/Al 0). */
export function sos(layout: FrameLayout): number[] {
  const n = layout.components.length
  const len = 6 + 2 * n
  const out = [0xff, 0xda, len >> 8, len & 0xff, n]
  for (const c of layout.components) out.push(c.id, (c.table << 4) | c.table)
  out.push(0, 63, 0)
  return out
}

/**
 * emit_sos for one progressive scan without successive approximation (Ah = Al = 0) over `components`: as
 * libjpeg writes it, a DC scan (Ss 0) names no AC table and an AC scan no DC table (0 in the unused nibble).
 */
export function sosProgressive(components: ComponentLayout[], ss: number, se: number): number[] {
  const n = components.length
  const len = 6 + 2 * n
  const out = [0xff, 0xda, len >> 8, len & 0xff, n]
  for (const c of components) out.push(c.id, ((ss === 0 ? c.table : 0) << 4) | (se ? c.table : 0))
  out.push(ss, se, 0)
  return out
}

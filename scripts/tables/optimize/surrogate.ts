/**
 * Fast incremental evaluator for the table search (single-component images, e.g. Fashion-MNIST).
 *
 * Encoding every calibration image with the real encoder, decoding with jpeg-js and classifying all of them costs
 * ~2 s per candidate table on 1k images; the search needs hundreds of candidates. A one-step change of step k
 * only touches coefficient k of each block, so this evaluator keeps per image: the encoder's own islow DCT output
 * (from shared/codec's block hook), the quantized values (the encoder's exact reciprocal quantizer), the scan
 * bits under the standard Huffman tables the encoder uses, the float reconstruction (dequantize + exact inverse
 * DCT) and the model's logits. A candidate re-quantizes one coefficient, recounts bits only in blocks that
 * changed, and re-classifies only the images whose reconstruction changed: for high frequencies that are zero
 * almost everywhere, a handful. Bytes are exact up to 0xFF stuffing; pixels differ from jpeg-js's integer IDCT
 * by at most a unit or so. The search's results are always re-measured with the real encoder and decoder.
 */
import { forEachDctBlockFloat } from '../../../shared/codec/blocks'
import { STD_AC_LUMA, STD_DC_LUMA, deriveCodes } from '../../../shared/codec/huffman'
import { validateHuffmanTables } from '../../../shared/codec/huffman-tables'
import type { HuffmanTables } from '../../../shared/codec/types'
import { rawDivisor, reciprocal } from '../../../shared/codec/quantize'
import { ZIGZAG } from '../../../shared/codec/tables'
import { validateTable } from '../../../shared/codec/tables'
import type { Evaluator, Score, TableEvaluator } from '../../../shared/deepn/optimize'
import { image, type LabelledSet } from '../../eval/dataset'
import { argmax, klFromRef, nll, softmax, type LogitsModel } from './logits'

/** Code lengths per symbol the rate is counted with: Annex K's luma tables unless a trained set is given. */
export interface CodeLengths {
  dc: Uint8Array
  ac: Uint8Array
}
const ANNEX_K_LENGTHS: CodeLengths = { dc: deriveCodes(STD_DC_LUMA).size, ac: deriveCodes(STD_AC_LUMA).size }

/** The luma code lengths of a trained set. */
export function codeLengthsOf(huffman: HuffmanTables): CodeLengths {
  const specs = validateHuffmanTables(huffman)
  return { dc: deriveCodes(specs.dc[0]).size, ac: deriveCodes(specs.ac[0]).size }
}

/** Orthonormal 8x8 DCT basis: BASIS[k*64 + y*8 + x] for natural index k = v*8 + u. */
const BASIS = (() => {
  const b = new Float64Array(64 * 64)
  const c = (n: number) => (n === 0 ? Math.SQRT1_2 : 1)
  for (let v = 0; v < 8; v++)
    for (let u = 0; u < 8; u++) {
      for (let y = 0; y < 8; y++)
        for (let x = 0; x < 8; x++) {
          b[(v * 8 + u) * 64 + y * 8 + x] =
            ((c(u) * c(v)) / 4) *
            Math.cos(((2 * x + 1) * u * Math.PI) / 16) *
            Math.cos(((2 * y + 1) * v * Math.PI) / 16)
        }
    }
  return b
})()

/** Quantizer of each step value 1..255 (islow: divisor 8q, same for every coefficient). */
const DIVISORS = Array.from({ length: 256 }, (_, q) => {
  const [fq, corr, shift] = reciprocal(rawDivisor(Math.max(1, q), 0, 'islow'))
  return { scale: fq / 2 ** shift, corr }
})

/** The encoder's quantization of islow output `x` by step `q` (jcdctmgr.c arithmetic, as shared/codec/quantize). */
export function quantizeValue(x: number, q: number): number {
  const d = DIVISORS[q]
  return x < 0 ? -Math.floor((d.corr - x) * d.scale) : Math.floor((x + d.corr) * d.scale)
}

const nbits = (a: number): number => (a === 0 ? 0 : 32 - Math.clz32(a))

/** AC bits of one block (natural-order values at `off`) under the AC code lengths `acSize`. */
function acBits(qv: Int16Array, off: number, acSize: Uint8Array): number {
  let run = 0
  let bits = 0
  for (let z = 1; z < 64; z++) {
    const v = qv[off + ZIGZAG[z]]
    if (v === 0) {
      run++
      continue
    }
    while (run > 15) {
      bits += acSize[0xf0]
      run -= 16
    }
    const n = nbits(v < 0 ? -v : v)
    bits += acSize[(run << 4) | n] + n
    run = 0
  }
  if (run > 0) bits += acSize[0]
  return bits
}

function dcBitsOf(diff: number, dcSize: Uint8Array): number {
  const n = nbits(diff < 0 ? -diff : diff)
  return dcSize[n] + n
}

interface Pending {
  k: number
  q: number
  changed: Int32Array
  logits: Float32Array
  score: Score
}

/**
 * The smooth loss that ranks moves: 'kl' (default) is KL(model output on the original ‖ on the decoded image), the
 * distortion of the model's own view, independent of labels and far less noisy than accuracy; 'nll' is the
 * cross-entropy of the true label.
 */
export type LossKind = 'kl' | 'nll'

export class SurrogateEvaluator implements Evaluator, TableEvaluator {
  readonly count: number
  readonly table: number[]
  /** Model runs (images classified) so far: the search's real cost. */
  classified = 0
  private readonly blocksWide: number
  private readonly blocks: number
  private readonly px: number
  private readonly ws: Int32Array
  private readonly qv: Int16Array
  private readonly blockBits: Int32Array
  private readonly imageBits: Int32Array
  private readonly recon: Float32Array
  /** The decoded pixels each image's logits were computed from: a candidate that leaves them identical costs no inference. */
  private readonly pixels: Uint8Array
  private input = new Float32Array(0)
  private readonly logits: Float32Array
  private readonly correct: Uint8Array
  private readonly loss: Float64Array
  private readonly labels: Int32Array
  private readonly classes: number
  private sumBytes = 0
  private sumCorrect = 0
  private sumLoss = 0
  private pending?: Pending
  private ref?: Float32Array
  private lengths: CodeLengths = ANNEX_K_LENGTHS

  private constructor(
    private readonly set: LabelledSet,
    private readonly model: LogitsModel,
    start: ArrayLike<number>,
    readonly lossKind: LossKind,
  ) {
    if (set.channels !== 1)
      throw new Error(
        `the table optimiser supports single-component (gray) images only; ${set.name} has ${set.channels} channels`,
      )
    validateTable(start, 'start table')
    this.count = set.count
    this.table = Array.from(start)
    this.blocksWide = Math.ceil(set.width / 8)
    this.blocks = this.blocksWide * Math.ceil(set.height / 8)
    this.px = set.width * set.height
    const n = set.count
    this.ws = new Int32Array(n * this.blocks * 64)
    this.qv = new Int16Array(n * this.blocks * 64)
    this.blockBits = new Int32Array(n * this.blocks)
    this.imageBits = new Int32Array(n)
    this.recon = new Float32Array(n * this.px)
    this.pixels = new Uint8Array(n * this.px)
    this.classes = model.classes
    this.logits = new Float32Array(n * this.classes)
    this.correct = new Uint8Array(n)
    this.loss = new Float64Array(n)
    this.labels = set.labels
  }

  /** DCTs, quantizes and classifies every image once with the start table. */
  static async create(
    set: LabelledSet,
    model: LogitsModel,
    start: ArrayLike<number>,
    lossKind: LossKind = 'kl',
  ): Promise<SurrogateEvaluator> {
    const ev = new SurrogateEvaluator(set, model, start, lossKind)
    if (lossKind === 'kl') {
      const input = new Float32Array(set.count * ev.px)
      for (let i = 0; i < set.count; i++) ev.toInput(i, image(set, i), input)
      const clean = await model.run(input, set.count)
      ev.ref = new Float32Array(clean.length)
      for (let i = 0; i < set.count; i++) softmax(clean, i * ev.classes, ev.classes, ev.ref, i * ev.classes)
    }
    await ev.reset(start)
    return ev
  }

  /** Counts the rate with other code lengths (a trained Huffman set; undefined = Annex K) from the next reset() on. */
  setCodeLengths(lengths: CodeLengths | undefined): void {
    this.lengths = lengths ?? ANNEX_K_LENGTHS
  }

  /** Re-initialises all state for another table (e.g. a second start point). */
  async reset(table: ArrayLike<number>): Promise<void> {
    validateTable(table, 'table')
    for (let k = 0; k < 64; k++) this.table[k] = table[k]
    this.pending = undefined
    const { set, blocks } = this
    let i = 0
    for (; i < set.count; i++) {
      let b = 0
      const base = i * blocks * 64
      forEachDctBlockFloat(
        { width: set.width, height: set.height, format: 'gray', data: image(set, i) },
        '420',
        (_c, coef) => {
          for (let k = 0; k < 64; k++) this.ws[base + b * 64 + k] = Math.round(coef[k] * 8)
          b++
        },
      )
    }
    for (i = 0; i < set.count; i++) {
      for (let b = 0; b < blocks; b++) {
        const off = (i * blocks + b) * 64
        for (let k = 0; k < 64; k++) this.qv[off + k] = quantizeValue(this.ws[off + k], this.table[k])
      }
      this.recountImage(i)
      this.reconstruct(i)
    }
    const input = new Float32Array(set.count * this.px)
    for (i = 0; i < set.count; i++) {
      this.round(
        this.recon.subarray(i * this.px, (i + 1) * this.px),
        this.pixels.subarray(i * this.px, (i + 1) * this.px),
      )
      this.toInput(i, this.pixels.subarray(i * this.px, (i + 1) * this.px), input)
    }
    const logits = await this.model.run(input, set.count)
    this.classified += set.count
    this.logits.set(logits)
    this.sumBytes = 0
    this.sumCorrect = 0
    this.sumLoss = 0
    for (i = 0; i < set.count; i++) {
      this.sumBytes += Math.ceil(this.imageBits[i] / 8)
      this.scoreImage(i)
      this.sumCorrect += this.correct[i]
      this.sumLoss += this.loss[i]
    }
  }

  /** Whole-table score (a full recount and re-classification; random search moves all 64 steps at once). */
  async evaluate(table: number[]): Promise<Score> {
    await this.reset(table)
    return this.current()
  }

  current(): Score {
    return { bytes: this.sumBytes / this.count, correct: this.sumCorrect, loss: this.sumLoss / this.count }
  }

  async tryMove(k: number, q: number): Promise<Score> {
    if (!(Number.isInteger(k) && k >= 0 && k < 64)) throw new RangeError(`step index must be 0..63, got ${k}`)
    if (!(Number.isInteger(q) && q >= 1 && q <= 255))
      throw new RangeError(`step value must be an integer 1..255, got ${q}`)
    const { blocks, px } = this
    const oldQ = this.table[k]
    const changed: number[] = []
    if (this.input.length < this.count * px) this.input = new Float32Array(this.count * px)
    const input = this.input
    const tmp = new Float32Array(px)
    const tmp8 = new Uint8Array(px)
    const newQv = new Int16Array(blocks)
    let sumBytes = this.sumBytes
    for (let i = 0; i < this.count; i++) {
      let imgChanged = false
      let bitsChanged = false
      for (let b = 0; b < blocks; b++) {
        const off = (i * blocks + b) * 64
        const nv = quantizeValue(this.ws[off + k], q)
        newQv[b] = nv
        if (nv !== this.qv[off + k]) bitsChanged = true
        if (nv * q !== this.qv[off + k] * oldQ) imgChanged = true
      }
      if (bitsChanged) {
        const bits = this.bitsWith(i, k, newQv)
        sumBytes += Math.ceil(bits / 8) - Math.ceil(this.imageBits[i] / 8)
      }
      if (!imgChanged) continue
      tmp.set(this.recon.subarray(i * px, (i + 1) * px))
      for (let b = 0; b < blocks; b++) {
        const off = (i * blocks + b) * 64
        const d = newQv[b] * q - this.qv[off + k] * oldQ
        if (d !== 0) this.addBasis(tmp, b, k, d)
      }
      this.round(tmp, tmp8)
      const cur = this.pixels.subarray(i * px, (i + 1) * px)
      let same = true
      for (let p = 0; p < px && same; p++) same = tmp8[p] === cur[p]
      if (same) continue
      this.toInput(changed.length, tmp8, input)
      changed.push(i)
    }
    const logits = changed.length ? await this.model.run(input, changed.length) : new Float32Array(0)
    this.classified += changed.length
    let sumCorrect = this.sumCorrect
    let sumLoss = this.sumLoss
    changed.forEach((i, j) => {
      const c = argmax(logits, j * this.classes, this.classes) === this.labels[i] ? 1 : 0
      sumCorrect += c - this.correct[i]
      sumLoss += this.lossOf(logits, j * this.classes, i) - this.loss[i]
    })
    const score = { bytes: sumBytes / this.count, correct: sumCorrect, loss: sumLoss / this.count }
    this.pending = { k, q, changed: Int32Array.from(changed), logits, score }
    return score
  }

  async apply(k: number, q: number): Promise<void> {
    if (!this.pending || this.pending.k !== k || this.pending.q !== q) await this.tryMove(k, q)
    const p = this.pending!
    const { blocks, px } = this
    const oldQ = this.table[k]
    for (let i = 0; i < this.count; i++) {
      let bitsChanged = false
      for (let b = 0; b < blocks; b++) {
        const off = (i * blocks + b) * 64
        const ov = this.qv[off + k]
        const nv = quantizeValue(this.ws[off + k], q)
        const d = nv * q - ov * oldQ
        if (nv !== ov) {
          this.qv[off + k] = nv
          bitsChanged = true
        }
        if (d !== 0) this.addBasis(this.recon.subarray(i * px, (i + 1) * px), b, k, d)
      }
      if (bitsChanged) this.recountImage(i)
    }
    this.table[k] = q
    p.changed.forEach((i) =>
      this.round(this.recon.subarray(i * px, (i + 1) * px), this.pixels.subarray(i * px, (i + 1) * px)),
    )
    p.changed.forEach((i, j) =>
      this.logits.set(p.logits.subarray(j * this.classes, (j + 1) * this.classes), i * this.classes),
    )
    this.sumBytes = 0
    this.sumCorrect = 0
    this.sumLoss = 0
    for (let i = 0; i < this.count; i++) {
      this.sumBytes += Math.ceil(this.imageBits[i] / 8)
      this.scoreImage(i)
      this.sumCorrect += this.correct[i]
      this.sumLoss += this.loss[i]
    }
    this.pending = undefined
  }

  private scoreImage(i: number): void {
    const off = i * this.classes
    this.correct[i] = argmax(this.logits, off, this.classes) === this.labels[i] ? 1 : 0
    this.loss[i] = this.lossOf(this.logits, off, i)
  }

  private lossOf(logits: Float32Array, off: number, i: number): number {
    return this.ref
      ? klFromRef(logits, off, this.classes, this.ref, i * this.classes)
      : nll(logits, off, this.classes, this.labels[i])
  }

  /** Scan bits of image i if coefficient k of its blocks took the values `newQv` (state unchanged). */
  private bitsWith(i: number, k: number, newQv: Int16Array): number {
    const { blocks, qv } = this
    let bits = 0
    let prev = 0
    for (let b = 0; b < blocks; b++) {
      const off = (i * blocks + b) * 64
      if (k === 0) {
        bits += dcBitsOf(newQv[b] - prev, this.lengths.dc) + this.blockBits[i * blocks + b]
        prev = newQv[b]
        continue
      }
      const dc = qv[off]
      bits += dcBitsOf(dc - prev, this.lengths.dc)
      prev = dc
      if (newQv[b] === qv[off + k]) {
        bits += this.blockBits[i * blocks + b]
        continue
      }
      const save = qv[off + k]
      qv[off + k] = newQv[b]
      bits += acBits(qv, off, this.lengths.ac)
      qv[off + k] = save
    }
    return bits
  }

  private recountImage(i: number): void {
    const { blocks, qv } = this
    let bits = 0
    let prev = 0
    for (let b = 0; b < blocks; b++) {
      const off = (i * blocks + b) * 64
      const ac = acBits(qv, off, this.lengths.ac)
      this.blockBits[i * blocks + b] = ac
      bits += ac + dcBitsOf(qv[off] - prev, this.lengths.dc)
      prev = qv[off]
    }
    this.imageBits[i] = bits
  }

  /** Float reconstruction of image i's visible pixels: 128 + Σ dequantized coefficient × basis, per block. */
  private reconstruct(i: number): void {
    const { blocks, px } = this
    const out = this.recon.subarray(i * px, (i + 1) * px)
    out.fill(128)
    for (let b = 0; b < blocks; b++) {
      const off = (i * blocks + b) * 64
      for (let k = 0; k < 64; k++) {
        const v = this.qv[off + k]
        if (v !== 0) this.addBasis(out, b, k, v * this.table[k])
      }
    }
  }

  /** Adds `d` × basis k to block b of a visible-pixel image (the padding beyond the image is not decoded). */
  private addBasis(img: Float32Array, b: number, k: number, d: number): void {
    const { width, height } = this.set
    const x0 = (b % this.blocksWide) * 8
    const y0 = Math.floor(b / this.blocksWide) * 8
    const bw = Math.min(8, width - x0)
    const bh = Math.min(8, height - y0)
    for (let y = 0; y < bh; y++) {
      const row = (y0 + y) * width + x0
      const brow = k * 64 + y * 8
      for (let x = 0; x < bw; x++) img[row + x] += d * BASIS[brow + x]
    }
  }

  /** Decoder output: the float reconstruction rounded and clamped to 0..255. */
  private round(recon: Float32Array, out: Uint8Array): void {
    for (let p = 0; p < this.px; p++) {
      const v = Math.round(recon[p])
      out[p] = v < 0 ? 0 : Math.min(v, 255)
    }
  }

  /** Pixels as model input 0..1 at slot j of `input`. */
  private toInput(j: number, pixels: Uint8Array, input: Float32Array): void {
    const off = j * this.px
    for (let p = 0; p < this.px; p++) input[off + p] = pixels[p] / 255
  }
}

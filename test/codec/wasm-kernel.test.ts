/** The WebAssembly SIMD islow kernel: generated module, exactness against the TypeScript reference path. */
import t from 'tap'
import { I32, get, i32x4add, module, sleb, uleb, vload, vstore } from '../../shared/codec/wasm/asm'
import {
  codecKernels,
  encoderKernel,
  quantKernelTable,
  setWasmKernelEnabled,
  writeQuantKernelTable,
} from '../../shared/codec/wasm/kernels'
import { rgbToYcc420Pair, rgbToYccRow } from '../../shared/codec/color'
import { islowColumnsQuantize, islowRows } from '../../shared/codec/fdct-islow'
import { ifastColumnsQuantize, ifastRows } from '../../shared/codec/fdct-ifast'
import { makeQuantizer } from '../../shared/codec/quantize'
import { encodeJpeg } from '../../shared/codec/encoder'
import { ZIGZAG, qualityTables } from '../../shared/codec/tables'
import type { RawImage } from '../../shared/codec/types'
import { Cjpeg, firstDiff, makeImage, photos, crop, randomTables, rng } from './helpers'

t.test('LEB128 encodings', async (t) => {
  t.same(uleb(0), [0])
  t.same(uleb(624485), [0xe5, 0x8e, 0x26])
  t.same(sleb(-1), [0x7f])
  t.same(sleb(63), [0x3f])
  t.same(sleb(64), [0xc0, 0x00])
  t.same(sleb(-123456), [0xc0, 0xbb, 0x78])
})

t.test('the assembler builds a valid SIMD module', async (t) => {
  const body = vstore(get(2), i32x4add(vload(get(0), 0), vload(get(1), 0)), 0)
  const wasm = module([{ name: 'add4', params: [I32, I32, I32], locals: [], body }], 1)
  // The project's lib setting has no WebAssembly typings: describe the two constructors used.
  const WA = (
    globalThis as unknown as {
      WebAssembly: {
        Module: new (b: Uint8Array) => object
        Instance: new (m: object, i: object) => { exports: unknown }
      }
    }
  ).WebAssembly
  const inst = new WA.Instance(new WA.Module(wasm), {})
  const { memory, add4 } = inst.exports as {
    memory: { buffer: ArrayBuffer }
    add4: (a: number, b: number, c: number) => void
  }
  const v = new Int32Array(memory.buffer)
  v.set([1, 2, 3, -4, 10, 20, 30, 40])
  add4(0, 16, 32)
  t.same([...v.subarray(8, 12)], [11, 22, 33, 36])
})

const kernel = codecKernels()
t.ok(kernel !== null || process.arch !== 'x64', 'Node 20 on x64 has WebAssembly SIMD: the kernels must compile here')
t.test(
  '16-bit islow kernel output equals islowRows + islowColumnsQuantize on random blocks and tables',
  { skip: kernel ? false : 'no WebAssembly SIMD in this runtime' },
  async (t) => {
    const k = kernel!
    const r = rng(31)
    const SRC = 4096,
      TABLE = 1024,
      OUT = 2048,
      stride = 40
    let bad = 0
    for (let n = 0; n < 2000; n++) {
      // n % 7 === 2: tables walking through every value 1..255, so every islow divisor 8..2040 meets the kernel.
      const table =
        n % 7 === 0
          ? new Array(64).fill(1)
          : n % 7 === 1
            ? new Array(64).fill(255)
            : n % 7 === 2
              ? Array.from({ length: 64 }, (_, i) => 1 + ((n * 64 + i) % 255))
              : randomTables(n).luma
      writeQuantKernelTable(k.memory, TABLE, quantKernelTable(table, 'islow'))
      const mem = new Uint8Array(k.memory.buffer)
      for (let i = 0; i < 8 * stride; i++)
        mem[SRC + i] = n % 3 === 0 ? r() : n % 3 === 1 ? 120 + (r() & 7) : (r() & 1) * 255
      k.block(SRC + 16, stride, TABLE, OUT)
      const got = new Int16Array(k.memory.buffer, OUT, 64)
      const ws = new Int32Array(64),
        want = new Int16Array(64)
      islowRows(mem, SRC + 16, stride, ws)
      islowColumnsQuantize(ws, makeQuantizer(table, 'islow'), want, 0)
      for (let i = 0; i < 64; i++) if (got[i] !== want[i]) bad++
    }
    t.equal(bad, 0)
  },
)

t.test(
  '16-bit islow kernel at the extremes: each basis pattern at full swing, both signs (i16 headroom), and natural order + zigzag map',
  { skip: kernel ? false : 'no WebAssembly SIMD in this runtime' },
  async (t) => {
    const k = kernel!
    const SRC = 4096,
      TABLE = 1024,
      OUT = 2048,
      stride = 8
    let bad = 0,
      badMap = 0,
      blocks = 0
    const inverse = new Uint8Array(64)
    ZIGZAG.forEach((n, z) => {
      inverse[n] = z
    })
    for (const table of [new Array(64).fill(1), qualityTables(90).luma, new Array(64).fill(255)]) {
      writeQuantKernelTable(k.memory, TABLE, quantKernelTable(table, 'islow'))
      for (let uv = 0; uv < 64; uv++) {
        for (const sign of [1, -1]) {
          const mem = new Uint8Array(k.memory.buffer)
          for (let y = 0; y < 8; y++) {
            for (let x = 0; x < 8; x++) {
              const b =
                Math.cos(((2 * x + 1) * (uv & 7) * Math.PI) / 16) *
                Math.cos(((2 * y + 1) * (uv >> 3) * Math.PI) / 16) *
                sign
              mem[SRC + y * stride + x] = b > 0 ? 255 : b < 0 ? 0 : (uv & 1) * 255
            }
          }
          const ws = new Int32Array(64),
            want = new Int16Array(64)
          islowRows(mem, SRC, stride, ws)
          islowColumnsQuantize(ws, makeQuantizer(table, 'islow'), want, 0)
          k.block(SRC, stride, TABLE, OUT)
          const got = new Int16Array(k.memory.buffer, OUT, 64)
          for (let i = 0; i < 64; i++) if (got[i] !== want[i]) bad++
          const map = k.blockNatural(SRC, stride, TABLE, OUT)
          const nat = new Int16Array(k.memory.buffer, OUT, 64)
          for (let i = 0; i < 64; i++) {
            if (nat[i] !== want[inverse[i]]) bad++
            if (((map >> BigInt(inverse[i])) & 1n) !== (want[inverse[i]] !== 0 ? 1n : 0n)) badMap++
          }
          blocks++
        }
      }
    }
    t.equal(blocks, 384)
    t.equal(bad, 0, 'coefficients equal the int32 reference')
    t.equal(badMap, 0, 'non-zero map in zigzag order')
  },
)

t.test(
  'ifast kernel output equals ifastRows + ifastColumnsQuantize (divisor 1 included)',
  { skip: kernel ? false : 'no WebAssembly SIMD in this runtime' },
  async (t) => {
    const k = kernel!
    const r = rng(41)
    const SRC = 4096,
      TABLE = 1024,
      OUT = 2048,
      stride = 24
    let bad = 0
    for (let n = 0; n < 2000; n++) {
      const table = n % 4 === 0 ? new Array(64).fill(1) : n % 4 === 1 ? new Array(64).fill(255) : randomTables(n).chroma
      writeQuantKernelTable(k.memory, TABLE, quantKernelTable(table, 'ifast'))
      const mem = new Uint8Array(k.memory.buffer)
      for (let i = 0; i < 8 * stride; i++)
        mem[SRC + i] = n % 3 === 0 ? r() : n % 3 === 1 ? 120 + (r() & 7) : (r() & 1) * 255
      k.blockFast(SRC + 8, stride, TABLE, OUT)
      const got = new Int16Array(k.memory.buffer, OUT, 64)
      const ws = new Int32Array(64),
        want = new Int16Array(64)
      ifastRows(mem, SRC + 8, stride, ws)
      ifastColumnsQuantize(ws, makeQuantizer(table, 'ifast'), want, 0)
      for (let i = 0; i < 64; i++) if (got[i] !== want[i]) bad++
    }
    t.equal(bad, 0)
  },
)

t.test(
  'colour kernels equal color.ts (4:4:4 rows and fused 4:2:0 pairs)',
  { skip: kernel ? false : 'no WebAssembly SIMD in this runtime' },
  async (t) => {
    const k = kernel!
    const r = rng(77)
    let bad = 0
    for (let n = 0; n < 300; n++) {
      const mem = new Uint8Array(k.memory.buffer)
      const groups = 1 + (n % 5)
      const px = 16 * groups
      const SRC = 1024,
        Y = 8192,
        CB = 12288,
        CR = 16384
      for (let i = 0; i < px * 3 + 64; i++) mem[SRC + i] = n % 2 ? r() : (r() & 1) * 255
      k.rgb444(SRC, Y, CB, CR, groups)
      const y = new Uint8Array(px),
        cb = new Uint8Array(px),
        cr = new Uint8Array(px)
      rgbToYccRow(mem, SRC, 3, px, y, 0, cb, cr, 0)
      for (let i = 0; i < px; i++) if (mem[Y + i] !== y[i] || mem[CB + i] !== cb[i] || mem[CR + i] !== cr[i]) bad++
      const A = 20000,
        B = 30000,
        YA = 40000,
        YB = 41000,
        CB2 = 42000,
        CR2 = 43000
      const w = 32 * groups
      for (let i = 0; i < w * 3 + 64; i++) {
        mem[A + i] = r()
        mem[B + i] = n % 3 ? r() : mem[A + i]
      }
      k.rgb420(A, B, YA, YB, CB2, CR2, groups)
      const data = new Uint8Array(w * 6)
      data.set(mem.subarray(A, A + w * 3), 0)
      data.set(mem.subarray(B, B + w * 3), w * 3)
      const ys = new Uint8Array(w * 2),
        cbs = new Uint8Array(w / 2),
        crs = new Uint8Array(w / 2)
      rgbToYcc420Pair(data, 3, w, 0, w * 3, ys, 0, w, w, cbs, crs, 0, w / 2)
      for (let i = 0; i < w; i++) if (mem[YA + i] !== ys[i] || mem[YB + i] !== ys[w + i]) bad++
      for (let i = 0; i < w / 2; i++) if (mem[CB2 + i] !== cbs[i] || mem[CR2 + i] !== crs[i]) bad++
    }
    t.equal(bad, 0)
  },
)

t.test(
  'colour kernels equal color.ts for every RGB colour, as RGB and as RGBA (the (G-B, G-R) dot identities)',
  { skip: kernel ? false : 'no WebAssembly SIMD in this runtime' },
  async (t) => {
    const k = kernel!
    // One R value per pass: its 65536 (G, B) pixels, 4:4:4 rows, and as 4:2:0 row pairs (rows B = A reversed).
    const px = 65536
    const need = 1024 + px * 4 + 64 + 6 * px
    if (k.memory.buffer.byteLength < need) k.memory.grow(Math.ceil((need - k.memory.buffer.byteLength) / 65536))
    const SRC = 1024,
      Y = SRC + px * 4 + 64,
      CB = Y + px,
      CR = CB + px,
      YB = CR + px,
      CB2 = YB + px,
      CR2 = CB2 + px / 2
    const data = new Uint8Array(px * 4),
      y = new Uint8Array(px * 2),
      cb = new Uint8Array(px),
      cr = new Uint8Array(px)
    const bad = { rgb444: 0, rgba444: 0, rgb420: 0, rgba420: 0 }
    for (let r = 0; r < 256; r++) {
      for (const stride of [3, 4]) {
        for (let i = 0; i < px; i++) {
          data[i * stride] = r
          data[i * stride + 1] = i >> 8
          data[i * stride + 2] = i & 255
          if (stride === 4) data[i * stride + 3] = i * 7
        }
        const mem = new Uint8Array(k.memory.buffer)
        mem.set(data.subarray(0, px * stride), SRC)
        ;(stride === 3 ? k.rgb444 : k.rgba444)(SRC, Y, CB, CR, px / 16)
        rgbToYccRow(data, 0, stride, px, y, 0, cb, cr, 0)
        const name = stride === 3 ? 'rgb444' : 'rgba444'
        for (let i = 0; i < px; i++)
          if (mem[Y + i] !== y[i] || mem[CB + i] !== cb[i] || mem[CR + i] !== cr[i]) bad[name]++
        // 4:2:0: rows A and B are the two halves of the pixel run.
        const w = px / 2
        ;(stride === 3 ? k.rgb420 : k.rgba420)(SRC, SRC + w * stride, Y, YB, CB2, CR2, w / 32)
        rgbToYcc420Pair(data, stride, w, 0, w * stride, y, 0, w, w, cb, cr, 0, w / 2)
        const name2 = stride === 3 ? 'rgb420' : 'rgba420'
        for (let i = 0; i < w; i++) if (mem[Y + i] !== y[i] || mem[YB + i] !== y[w + i]) bad[name2]++
        for (let i = 0; i < w / 2; i++) if (mem[CB2 + i] !== cb[i] || mem[CR2 + i] !== cr[i]) bad[name2]++
      }
    }
    t.same(bad, { rgb444: 0, rgba444: 0, rgb420: 0, rgba420: 0 })
  },
)

t.test(
  'encoder output is identical with and without the kernel, and equals cjpeg on the TypeScript path too',
  async (t) => {
    const cj = new Cjpeg()
    t.teardown(() => {
      setWasmKernelEnabled(true)
      cj.cleanup()
    })
    const yuv = makeImage(39, 1, 'gray', 'random', 6) // 39x1 bytes reused as random I420 data below
    const i420: RawImage = {
      width: 37,
      height: 23,
      format: 'yuv420p',
      data: new Uint8Array(37 * 23 + 2 * 19 * 12).map((_, i) => yuv.data[i % 39] ^ (i * 7)),
    }
    const images: RawImage[] = [
      makeImage(45, 29, 'rgb', 'random', 3),
      makeImage(64, 48, 'gray', 'gradient', 4),
      makeImage(70, 33, 'rgba', 'random', 5),
      i420,
      crop(photos()[1], 3, 5, 101, 67),
      crop(photos()[2], 0, 0, 200, 130),
    ]
    for (const image of images) {
      for (const o of [
        { quality: 75 },
        { quality: 95, subsampling: '444' as const },
        { tables: randomTables(8), optimizeHuffman: true, restartInterval: 2 },
        { quality: 60, dct: 'ifast' as const },
        { tables: { luma: new Array(64).fill(1), chroma: new Array(64).fill(1) }, dct: 'ifast' as const },
      ]) {
        if (image.format === 'yuv420p' && o.subsampling === '444') continue
        setWasmKernelEnabled(true)
        const withKernel = encodeJpeg(image, o)
        setWasmKernelEnabled(false)
        const withoutKernel = encodeJpeg(image, o)
        t.equal(
          firstDiff(withKernel, withoutKernel),
          -1,
          `${image.width}x${image.height} ${image.format} ${JSON.stringify(o).slice(0, 40)}`,
        )
      }
      if (image.format === 'rgba' || image.format === 'yuv420p') continue
      setWasmKernelEnabled(false)
      const q = qualityTables(80)
      for (const subsampling of ['420', '444'] as const) {
        const ref = cj.encode(image, { ...q, subsampling })
        t.equal(
          firstDiff(encodeJpeg(image, { tables: q, subsampling }), ref),
          -1,
          `TypeScript path = cjpeg (${subsampling})`,
        )
      }
    }
  },
)

t.test('encoderKernel() says which path encodes, so a runtime without SIMD is visible', async (t) => {
  t.teardown(() => setWasmKernelEnabled(true))
  t.equal(encoderKernel(), kernel ? 'wasm-simd' : 'typescript')
  setWasmKernelEnabled(false)
  t.equal(encoderKernel(), 'typescript')
  setWasmKernelEnabled(true)
  t.equal(encoderKernel(), kernel ? 'wasm-simd' : 'typescript')
})

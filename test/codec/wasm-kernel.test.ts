/** The WebAssembly SIMD islow kernel: generated module, exactness against the TypeScript reference path. */
import t from 'tap'
import { I32, get, i32x4add, module, sleb, uleb, vload, vstore } from '../../shared/codec/wasm/asm'
import { islowKernel, setWasmKernelEnabled, writeKernelTable } from '../../shared/codec/wasm/islow-kernel'
import { islowColumnsQuantize, islowRows } from '../../shared/codec/fdct-islow'
import { makeQuantizer, rawDivisor, reciprocal } from '../../shared/codec/quantize'
import { encodeJpeg } from '../../shared/codec/encoder'
import { qualityTables } from '../../shared/codec/tables'
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
  const WA = (globalThis as unknown as { WebAssembly: { Module: new (b: Uint8Array) => object; Instance: new (m: object, i: object) => { exports: unknown } } }).WebAssembly
  const inst = new WA.Instance(new WA.Module(wasm), {})
  const { memory, add4 } = inst.exports as { memory: { buffer: ArrayBuffer }; add4: (a: number, b: number, c: number) => void }
  const v = new Int32Array(memory.buffer)
  v.set([1, 2, 3, -4, 10, 20, 30, 40])
  add4(0, 16, 32)
  t.same([...v.subarray(8, 12)], [11, 22, 33, 36])
})

const kernel = islowKernel()
t.test('kernel output equals islowRows + islowColumnsQuantize on random blocks and tables', { skip: kernel ? false : 'no WebAssembly SIMD in this runtime' }, async (t) => {
  const k = kernel!
  const r = rng(31)
  const SRC = 4096, TABLE = 1024, OUT = 2048, stride = 40
  let bad = 0
  for (let n = 0; n < 2000; n++) {
    const table = n % 7 === 0 ? new Array(64).fill(1) : n % 7 === 1 ? new Array(64).fill(255) : randomTables(n).luma
    const recips = table.map((q, i) => reciprocal(rawDivisor(q, i, 'islow')))
    writeKernelTable(k.memory, TABLE, recips.map((x) => x[1]), recips.map((x) => x[0]), recips.map((x) => x[2]))
    const mem = new Uint8Array(k.memory.buffer)
    for (let i = 0; i < 8 * stride; i++) mem[SRC + i] = n % 3 === 0 ? r() : n % 3 === 1 ? 120 + (r() & 7) : (r() & 1) * 255
    k.block(SRC + 16, stride, TABLE, OUT)
    const got = new Int16Array(k.memory.buffer, OUT, 64)
    const ws = new Int32Array(64), want = new Int16Array(64)
    islowRows(mem, SRC + 16, stride, ws)
    islowColumnsQuantize(ws, makeQuantizer(table, 'islow'), want, 0)
    for (let i = 0; i < 64; i++) if (got[i] !== want[i]) bad++
  }
  t.equal(bad, 0)
})

t.test('encoder output is identical with and without the kernel, and equals cjpeg on the TypeScript path too', async (t) => {
  const cj = new Cjpeg()
  t.teardown(() => { setWasmKernelEnabled(true); cj.cleanup() })
  const images = [makeImage(45, 29, 'rgb', 'random', 3), makeImage(64, 48, 'gray', 'gradient', 4), crop(photos()[1], 3, 5, 101, 67)]
  for (const image of images) {
    for (const o of [{ quality: 75 }, { quality: 95, subsampling: '444' as const }, { tables: randomTables(8), optimizeHuffman: true, restartInterval: 2 }]) {
      setWasmKernelEnabled(true)
      const withKernel = encodeJpeg(image, o)
      setWasmKernelEnabled(false)
      const withoutKernel = encodeJpeg(image, o)
      t.equal(firstDiff(withKernel, withoutKernel), -1, `${image.width}x${image.height} ${image.format} ${JSON.stringify(o).slice(0, 40)}`)
    }
    setWasmKernelEnabled(false)
    const q = qualityTables(80)
    const ref = cj.encode(image, { ...q, subsampling: '420' })
    t.equal(firstDiff(encodeJpeg(image, { tables: q, subsampling: '420' }), ref), -1, 'TypeScript path = cjpeg')
  }
})

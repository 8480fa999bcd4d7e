/**
 * Progressive (SOF2) output: byte-exact against the real cjpeg given the same spectral-selection scan script
 * (`-scans`: a DC scan of all components, then AC 1..63 per component), gray and colour, 4:2:0 and 4:4:4, sizes
 * that leave dummy blocks, restart intervals and an EOBRUN long enough to be forced out; every case on both
 * encoder paths. Then: djpeg decodes it to the baseline file's pixels, and DC-only blocks make it smaller.
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import jpegJs from 'jpeg-js'
import { encodeJpeg } from '../../shared/codec/encoder'
import { STD_AC_LUMA, STD_DC_LUMA, type HuffmanSpec } from '../../shared/codec/huffman'
import { qualityTables } from '../../shared/codec/tables'
import type { BlockKeepMap, EncodeOptions, HuffmanTable, RawImage } from '../../shared/codec/types'
import { encoderKernel, setWasmKernelEnabled } from '../../shared/codec/wasm/kernels'
import { Cjpeg, crop, djpeg, firstDiff, makeImage, photos, randomTables, toGray, type Pattern } from './helpers'

const cj = new Cjpeg()
t.teardown(() => cj.cleanup())

/** The script our progressive mode writes, in cjpeg's -scans syntax. */
function script(image: RawImage): string {
  return image.format === 'gray'
    ? '0: 0 0 0 0;\n0: 1 63 0 0;\n'
    : '0,1,2: 0 0 0 0;\n0: 1 63 0 0;\n1: 1 63 0 0;\n2: 1 63 0 0;\n'
}

function check(
  t: tap.Test,
  image: RawImage,
  o: { luma: number[]; chroma: number[]; subsampling?: '444' | '420'; dct?: 'islow' | 'ifast'; restart?: number },
  label: string,
): void {
  const ref = cj.encode(image, { ...o, scans: script(image) })
  t.equal(ref[3], 0xe0, 'cjpeg wrote JFIF first') // sanity: cjpeg ran with our script
  for (const kernel of [true, false]) {
    setWasmKernelEnabled(kernel)
    try {
      const ours = encodeJpeg(image, {
        tables: { luma: o.luma, chroma: o.chroma },
        subsampling: o.subsampling,
        dct: o.dct,
        restartInterval: o.restart ?? 0,
        progressive: true,
      })
      const at = firstDiff(ref, ours)
      t.equal(
        at,
        -1,
        `${label} [${kernel ? encoderKernel() : 'typescript'}]: identical (cjpeg ${ref.length} B, ours ${ours.length} B${at >= 0 ? `, first difference at byte ${at}` : ''})`,
      )
    } finally {
      setWasmKernelEnabled(true)
    }
  }
}

const SIZES: [number, number][] = [
  [1, 1],
  [7, 9],
  [8, 8],
  [16, 16],
  [17, 9],
  [33, 17],
  [40, 24],
  [97, 61],
]

t.test('byte-identical to cjpeg -scans, gray and colour, 4:2:0 and 4:4:4, sizes leaving dummy blocks', async (t) => {
  let seed = 1
  for (const [w, h] of SIZES) {
    for (const format of ['rgb', 'gray'] as const) {
      for (const pattern of ['random', 'gradient', 'blocks'] as Pattern[]) {
        const image = makeImage(w, h, format, pattern, seed++)
        const tables = seed % 2 ? qualityTables(1 + ((seed * 37) % 100)) : randomTables(seed)
        for (const subsampling of format === 'gray' ? ['444' as const] : ['444' as const, '420' as const])
          check(t, image, { ...tables, subsampling }, `${w}x${h} ${format} ${pattern} ${subsampling}`)
      }
    }
  }
})

t.test('640x480 noise and gradient, quality 20, 50 and 90, ifast too', async (t) => {
  for (const pattern of ['random', 'gradient'] as Pattern[]) {
    const image = makeImage(640, 480, 'rgb', pattern, 640)
    for (const q of [20, 50, 90]) {
      check(t, image, { ...qualityTables(q), subsampling: '420' }, `640x480 ${pattern} q${q} 420`)
      check(t, image, { ...qualityTables(q), subsampling: '444', dct: 'ifast' }, `640x480 ${pattern} q${q} 444 ifast`)
    }
    check(t, toGray(image), qualityTables(50), `640x480 ${pattern} gray`)
  }
})

t.test('restart intervals: MCUs in the DC scan, blocks in each AC scan (cjpeg -restart NB)', async (t) => {
  const image = makeImage(53, 41, 'rgb', 'random', 77)
  for (const restart of [1, 2, 3, 7, 100]) {
    for (const subsampling of ['444', '420'] as const)
      check(t, image, { ...qualityTables(60), subsampling, restart }, `restart ${restart} ${subsampling}`)
    check(t, toGray(image), { ...qualityTables(60), restart }, `restart ${restart} gray`)
  }
  const smooth = makeImage(150, 70, 'rgb', 'gradient', 5) // long EOB runs cut by restarts
  check(t, smooth, { ...qualityTables(30), subsampling: '420', restart: 13 }, 'restart 13 gradient 420')
})

t.test('an EOB run longer than 0x7FFF blocks is forced out as libjpeg does', async (t) => {
  // 2048x1040 flat gray: 33280 blocks without AC in one scan.
  const image: RawImage = { width: 2048, height: 1040, format: 'gray', data: new Uint8Array(2048 * 1040).fill(97) }
  check(t, image, qualityTables(75), '2048x1040 flat gray')
})

t.test('real photos', async (t) => {
  photos()
    .slice(0, 3)
    .forEach((photo, i) => {
      const image = crop(photo, 0, 0, Math.min(photo.width, 123), Math.min(photo.height, 77))
      check(t, image, { ...qualityTables(40 + 20 * i), subsampling: '420' }, `photo ${i} 420`)
      check(t, toGray(image), qualityTables(75), `photo ${i} gray`)
    })
})

/** A cols x rows map: DC only in the cells `dcOnly` picks, everything elsewhere. */
function keepMap(cols: number, rows: number, dcOnly: (cx: number, cy: number) => boolean): BlockKeepMap {
  const keep: number[] = []
  for (let cy = 0; cy < rows; cy++) for (let cx = 0; cx < cols; cx++) keep.push(dcOnly(cx, cy) ? 1 : 64)
  return { cols, rows, keep }
}

t.test('decoders see the baseline file pixels, and jpegtran makes the same bytes (same coefficients)', async (t) => {
  const photo = crop(photos()[1], 0, 0, 141, 93)
  const scans = join(cj.dir, 'scans-jpegtran.txt')
  const cases: [RawImage, EncodeOptions][] = [
    [photo, { quality: 50 }],
    [photo, { quality: 85, subsampling: '444', restartInterval: 5 }],
    [toGray(photo), { quality: 30 }],
    [photo, { quality: 20, blockKeep: keepMap(3, 2, (cx) => cx !== 1) }],
    [photo, { quality: 75, blockKeep: keepMap(5, 4, (cx, cy) => (cx + cy) % 2 === 0) }],
    [photo, { quality: 75, blockKeep: keepMap(1, 1, () => true) }],
    [photo, { quality: 60, blockKeep: { cols: 3, rows: 2, keep: [0, 1, 64, 0, 5, 0] } }], // 0: blank cells
  ]
  for (const [image, o] of cases) {
    const baseline = encodeJpeg(image, { ...o, optimizeHuffman: true })
    const prog = encodeJpeg(image, { ...o, progressive: true })
    const label = `${image.format} ${JSON.stringify(o)}`
    t.equal(prog[prog.indexOf(0xc2, 2) - 1], 0xff, `${label}: SOF2`)
    t.equal(firstDiff(djpeg(prog).data, djpeg(baseline).data), -1, `${label}: same pixels (djpeg)`)
    // jpeg-js is the agent's own decoder (refit of a stored frame): it must read our progressive files too.
    const js = (b: Uint8Array) => jpegJs.decode(b, { useTArray: true, formatAsRGBA: false }).data
    t.equal(firstDiff(js(prog), js(baseline)), -1, `${label}: same pixels (jpeg-js)`)
    // jpegtran re-codes our baseline file's coefficients (keep map included) into exactly our progressive bytes.
    writeFileSync(scans, script(image))
    const restart = o.restartInterval ? ['-restart', `${o.restartInterval}B`] : [] // jpegtran drops it otherwise
    const jt = execFileSync('jpegtran', ['-copy', 'none', '-optimize', ...restart, '-scans', scans], {
      input: baseline,
    })
    t.equal(firstDiff(jt, prog), -1, `${label}: jpegtran -optimize -scans of the baseline file is byte-identical`)
  }
})

t.test('a keep map with DC-only cells: progressive is smaller than baseline with optimal tables', async (t) => {
  const photo = crop(photos()[0], 0, 0, 256, 160)
  const noise = makeImage(256, 160, 'rgb', 'random', 9)
  for (const [name, image] of [
    ['photo', photo],
    ['noise', noise],
  ] as const) {
    const blockKeep = keepMap(8, 5, (cx, cy) => cx !== 3 || cy !== 2) // all DC only but one cell
    const base = encodeJpeg(image, { quality: 50, optimizeHuffman: true, blockKeep })
    const prog = encodeJpeg(image, { quality: 50, progressive: true, blockKeep })
    t.ok(prog.length < base.length, `${name}: progressive ${prog.length} B < baseline optimal ${base.length} B`)
  }
})

t.test('the option is checked', async (t) => {
  const image = makeImage(8, 8, 'rgb', 'random')
  t.throws(() => encodeJpeg(image, { progressive: 'yes' as never }), /progressive: expected a boolean/)
  const json = (s: HuffmanSpec): HuffmanTable => ({
    counts: Array.from(s.bits.subarray(1)),
    symbols: Array.from(s.huffval),
  })
  const huffman = { lumaDc: json(STD_DC_LUMA), lumaAc: json(STD_AC_LUMA) }
  t.throws(
    () => encodeJpeg(image, { progressive: true, huffman }),
    /huffman: fixed Huffman tables and progressive exclude each other/,
  )
  t.equal(firstDiff(encodeJpeg(image, { progressive: false }), encodeJpeg(image, {})), -1, 'false is baseline')
})

/** `deepn encode`: in-process main() for behaviour and errors, plus one real spawn of the built CLI. */
import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { readJpegMetadata } from '../../shared/codec/metadata'
import { qualityTables } from '../../shared/codec/tables'
import { firstDiff, djpeg, randomTables } from './helpers'
import { runCli } from '../helpers/cli'

const ROOT = resolve(__dirname, '../..')
const FIX = join(ROOT, 'test/fixtures/images')
const PPM = join(FIX, 'ladybird-61x47.ppm')
const PNG = join(FIX, 'ladybird-61x47.png')
const dir = mkdtempSync(join(tmpdir(), 'encode-cli-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

const run = (argv: string[]) => runCli(['encode', ...argv])

function cjpeg(args: string[], input: string): Buffer {
  return execFileSync('cjpeg', ['-dct', 'int', '-baseline', '-qslots', '0,1,1', ...args, input])
}

t.test('PPM and PNG of the same pixels give the cjpeg bytes (quality and table file)', async (t) => {
  const qfile = join(dir, 'q.txt')
  const q = qualityTables(85)
  writeFileSync(qfile, `${q.luma.join(' ')}\n${q.chroma.join(' ')}\n`)
  for (const input of [PPM, PNG]) {
    const out = join(dir, 'a.jpg')
    const r = await run([input, '-o', out, '--quality', '85'])
    t.equal(r.code, 0, r.err)
    t.match(r.out, /61x47 420 islow, quality 85 → \d+ bytes/)
    t.equal(firstDiff(readFileSync(out), cjpeg(['-qtables', qfile, '-sample', '2x2'], PPM)), -1, `${input} 420`)
  }
  const tables = { id: 'test-random', ...randomTables(4), source: { kind: 'test' } }
  const tfile = join(dir, 'tables.json')
  writeFileSync(tfile, JSON.stringify(tables))
  writeFileSync(qfile, `${tables.luma.join(' ')}\n${tables.chroma.join(' ')}\n`)
  const out = join(dir, 'b.jpg')
  const r = await run([PPM, '-o', out, '--tables', tfile, '--subsampling', '444', '--dct', 'ifast'])
  t.equal(r.code, 0, r.err)
  t.match(r.out, /tables test-random/)
  t.equal(
    firstDiff(
      readFileSync(out),
      execFileSync('cjpeg', [
        '-dct',
        'fast',
        '-baseline',
        '-qslots',
        '0,1,1',
        '-qtables',
        qfile,
        '-sample',
        '1x1',
        PPM,
      ]),
    ),
    -1,
  )
})

t.test(
  '--optimize, --progressive, --restart rows/MCUs and --metadata produce what cjpeg / the reader expect',
  async (t) => {
    const q = qualityTables(75)
    const qfile = join(dir, 'q75.txt')
    writeFileSync(qfile, `${q.luma.join(' ')}\n${q.chroma.join(' ')}\n`)
    for (const [flag, cj] of [
      ['2', '2'],
      ['5B', '5B'],
    ]) {
      const out = join(dir, `r${flag}.jpg`)
      t.equal((await run([PPM, '-o', out, '--restart', flag, '--optimize'])).code, 0)
      t.equal(
        firstDiff(readFileSync(out), cjpeg(['-qtables', qfile, '-sample', '2x2', '-optimize', '-restart', cj], PPM)),
        -1,
        `--restart ${flag}`,
      )
    }
    const scans = join(dir, 'scans.txt')
    writeFileSync(scans, '0,1,2: 0 0 0 0;\n0: 1 63 0 0;\n1: 1 63 0 0;\n2: 1 63 0 0;\n')
    const prog = join(dir, 'p.jpg')
    t.equal((await run([PPM, '-o', prog, '--progressive', '--restart', '5B'])).code, 0)
    t.equal(
      firstDiff(
        readFileSync(prog),
        cjpeg(['-qtables', qfile, '-sample', '2x2', '-scans', scans, '-restart', '5B'], PPM),
      ),
      -1,
      '--progressive: cjpeg -scans bytes',
    )
    const out = join(dir, 'm.jpg')
    t.equal((await run([PPM, '-o', out, '--metadata', '{"seq":7,"cam":"a"}'])).code, 0)
    const jpeg = readFileSync(out)
    t.same(readJpegMetadata(jpeg), { seq: 7, cam: 'a' })
    t.equal(djpeg(jpeg).width, 61)
  },
)

t.test(
  '--keep-map: a map that keeps everything changes no byte; a DC-only map costs less and djpeg reads it',
  async (t) => {
    // 61x47 at 4:2:0 is 4x3 MCUs: a 4x3 map, one cell per MCU
    const mapFile = (levels: string, keep: number[]) => {
      const f = join(dir, `map-${levels}.json`)
      writeFileSync(f, JSON.stringify({ id: 'cam-map', cols: 4, rows: 3, levels, keep }))
      return f
    }
    const plain = join(dir, 'plain.jpg')
    t.equal((await run([PPM, '-o', plain, '--quality', '90'])).code, 0)
    const full = join(dir, 'full.jpg')
    const r = await run([PPM, '-o', full, '--quality', '90', '--keep-map', mapFile('000000000000', [64])])
    t.equal(r.code, 0, r.err)
    t.match(r.out, /quality 90, keep map cam-map → \d+ bytes/)
    t.equal(firstDiff(readFileSync(full), readFileSync(plain)), -1, 'keep 64 everywhere: the same bytes')
    const dc = join(dir, 'dc.jpg')
    t.equal((await run([PPM, '-o', dc, '--quality', '90', '--keep-map', mapFile('100000000001', [64, 1])])).code, 0)
    t.ok(readFileSync(dc).length < readFileSync(plain).length, 'DC-only cells cost fewer bytes')
    const img = djpeg(readFileSync(dc))
    t.same([img.width, img.height], [61, 47], 'a standard JPEG djpeg decodes')
    const bad = await run([PPM, '-o', dc, '--keep-map', mapFile('0000', [64])])
    t.equal(bad.code, 1)
    t.match(bad.err, /--keep-map .*map-0000\.json: .*levels/, 'a bad map names the file and the field')
    const missing = await run([PPM, '-o', dc, '--keep-map', join(dir, 'none.json')])
    t.match(missing.err, /--keep-map .*none\.json: no such file/)
  },
)

t.test('usage errors exit 2, file errors exit 1, each naming the problem', async (t) => {
  const bad = join(dir, 'bad.json')
  writeFileSync(
    bad,
    JSON.stringify({ id: 'broken', luma: new Array(64).fill(1), chroma: [...new Array(63).fill(1), 0] }),
  )
  const notImage = join(dir, 'x.txt')
  writeFileSync(notImage, 'hello')
  const cases: [string[], number, RegExp][] = [
    [[], 2, /missing input file/],
    [[PPM], 2, /missing -o/],
    [[PPM, '-o'], 2, /-o needs a value/],
    [[PPM, '-o', 'x.jpg', '--quality', '0'], 2, /--quality must be an integer in 1\.\.100, got '0'/],
    [[PPM, '-o', 'x.jpg', '--quality', 'high'], 2, /--quality must be an integer in 1\.\.100, got 'high'/],
    [[PPM, '-o', 'x.jpg', '--subsampling', '422'], 2, /--subsampling must be 444 or 420, got '422'/],
    [[PPM, '-o', 'x.jpg', '--dct', 'float'], 2, /--dct/],
    [[PPM, '-o', 'x.jpg', '--restart', 'x'], 2, /--restart must be N/],
    [[PPM, '-o', 'x.jpg', '--bogus'], 2, /unknown option '--bogus'/],
    [[PPM, PNG, '-o', 'x.jpg'], 2, /expected one input file/],
    [[PPM, '-o', 'x.jpg', '--tables', bad, '--quality', '5'], 2, /mutually exclusive/],
    [[PPM, '-o', 'x.jpg', '--metadata', '[1]'], 2, /--metadata: expected a JSON object/],
    [[join(dir, 'missing.ppm'), '-o', join(dir, 'x.jpg')], 1, /cannot read input '.*missing\.ppm': no such file/],
    [[notImage, '-o', join(dir, 'x.jpg')], 1, /unknown format/],
    [
      [PPM, '-o', join(dir, 'x.jpg'), '--tables', bad],
      1,
      /bad\.json \(id broken\) chroma\[63\]: 0 is outside 1\.\.255/,
    ],
    [[PPM, '-o', join(dir, 'x.jpg'), '--tables', join(dir, 'nope.json')], 1, /cannot read table file/],
    [
      [PPM, '-o', join(dir, 'no-such-dir', 'x.jpg')],
      2,
      /-o .*x\.jpg: cannot write in .*no-such-dir \(no such file or directory\)/,
    ],
  ]
  for (const [argv, code, re] of cases) {
    const r = await run(argv)
    t.equal(r.code, code, `${argv.join(' ')} → exit ${code}`)
    t.match(r.err, re)
  }
  const help = await run(['--help'])
  t.equal(help.code, 0)
  t.match(help.out, /usage: deepn encode/)
})

const cli = join(ROOT, 'dist/agent/cli.js')
const built = existsSync(cli) && existsSync(join(ROOT, 'dist/agent/commands/encode.js'))
t.test(
  'the built CLI encodes via `node dist/agent/cli.js encode`',
  {
    skip: built
      ? false
      : 'dist/agent/cli.js or dist/agent/commands/encode.js missing: run `npm run build` first (npm test does)',
  },
  async (t) => {
    const out = join(dir, 'spawned.jpg')
    const r = spawnSync(process.execPath, [cli, 'encode', PNG, '-o', out, '--quality', '60', '--subsampling', '444'], {
      encoding: 'utf8',
    })
    t.equal(r.status, 0, r.stderr)
    const q = qualityTables(60)
    const qfile = join(dir, 'q60.txt')
    writeFileSync(qfile, `${q.luma.join(' ')}\n${q.chroma.join(' ')}\n`)
    t.equal(firstDiff(readFileSync(out), cjpeg(['-qtables', qfile, '-sample', '1x1'], PPM)), -1)
    const bad = spawnSync(process.execPath, [cli, 'encode', PNG], { encoding: 'utf8' })
    t.equal(bad.status, 2)
    t.match(bad.stderr, /missing -o/)
  },
)

t.test(
  '--tables FILE with a trained Huffman set: used (same pixels, other DHT), dropped under --optimize',
  async (t) => {
    const { symbolFrequencies } = await import('../../shared/codec/encoder')
    const { emptySymbolCounts, trainHuffmanTables } = await import('../../shared/codec/huffman-tables')
    const { parsePnm } = await import('./helpers')
    const q = qualityTables(50)
    const image = parsePnm(readFileSync(PPM))
    const huffman = trainHuffmanTables(symbolFrequencies(image, { tables: q }, emptySymbolCounts()), true)
    const tfile = join(dir, 'with-set.json')
    writeFileSync(tfile, JSON.stringify({ id: 'with-set', ...q, huffman }))
    const [a, b, c] = ['set.jpg', 'plain.jpg', 'opt.jpg'].map((f) => join(dir, f))
    const r = await run([PPM, '-o', a, '--tables', tfile])
    t.equal(r.code, 0)
    t.match(r.out, /tables with-set \+ its Huffman set/)
    t.equal((await run([PPM, '-o', b, '--quality', '50'])).code, 0)
    t.ok(
      readFileSync(a).length < readFileSync(b).length,
      `fitted to this image: ${readFileSync(a).length} < ${readFileSync(b).length} B`,
    )
    t.same(djpeg(readFileSync(a)).data, djpeg(readFileSync(b)).data, 'same pixels as Annex K Huffman')
    t.equal((await run([PPM, '-o', c, '--tables', tfile, '--optimize'])).code, 0)
    t.equal(
      firstDiff(readFileSync(c), cjpeg(['-quality', '50', '-sample', '2x2', '-optimize'], PPM)),
      -1,
      '--optimize wins: cjpeg -optimize bytes',
    )
  },
)

t.test('odd inputs: the message names the file and what is wrong, never the decoder library', async (t) => {
  const odd = join(dir, 'odd')
  mkdirSync(odd, { recursive: true })
  const jpg = cjpeg(['-quality', '75'], PPM)
  const zero = Buffer.from(jpg)
  const sof = zero.indexOf(Buffer.from([0xff, 0xc0]))
  zero.fill(0, sof + 5, sof + 9) // SOF0 height and width = 0
  const png = readFileSync(PNG)
  const huge = Buffer.from(png)
  huge.writeUInt32BE(100000, 16)
  huge.writeUInt32BE(100000, 20)
  const files: Record<string, [Buffer, RegExp]> = {
    'zero.jpg': [zero, /JPEG \(.*zero\.jpg\): declares a 0x0 image: width and height must be at least 1/],
    'cut.jpg': [
      jpg.subarray(0, jpg.length >> 1),
      /JPEG \(.*cut\.jpg\): truncated: the file \(\d+ bytes\) ends before its end-of-image marker/,
    ],
    'cut.png': [
      png.subarray(0, png.length >> 1),
      /PNG \(.*cut\.png\): truncated: the file \(\d+ bytes\) ends before its IEND chunk/,
    ],
    'huge.png': [
      huge,
      /PNG \(.*huge\.png\): 100000x100000 is 10000 megapixels, above the 64 megapixel limit for input images/,
    ],
    'deep.ppm': [
      Buffer.concat([Buffer.from('P6\n2 2\n65535\n'), Buffer.alloc(24)]),
      /PPM \(.*deep\.ppm\): maxval 65535 not supported .*16-bit/,
    ],
    'empty.png': [Buffer.alloc(0), /image \(.*empty\.png\): empty file/],
  }
  for (const [name, [bytes, re]] of Object.entries(files)) {
    writeFileSync(join(odd, name), bytes)
    const r = await run([join(odd, name), '-o', join(odd, `${name}.out.jpg`)])
    t.equal(r.code, 1, name)
    t.match(r.err, new RegExp(`^deepn encode: ${re.source}`), name)
    t.notMatch(
      r.err,
      /waitng|read requests|maxResolutionInMP|marker was not found|unknown JPEG marker|\n/,
      `${name}: no library internals, one line`,
    )
    t.notOk(existsSync(join(odd, `${name}.out.jpg`)), `${name}: no output`)
  }
  const help = await run(['--help'])
  t.match(help.out, /16-bit PPM\/PGM/)
  t.match(help.out, /RLE-compressed BMP/)
})

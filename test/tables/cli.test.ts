import t from 'tap'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PNG } from 'pngjs'
import { main } from '../../scripts/tables/cli'

const committed = (id: string) => JSON.parse(readFileSync(join(__dirname, '../../config/tables', `${id}.json`), 'utf8'))
const quiet = async (argv: string[]) => {
  const err = console.error
  console.error = () => {}
  try {
    return await main(argv)
  } finally {
    console.error = err
  }
}

t.test(
  'the committed Fashion-MNIST table is reproduced by its documented command',
  { skip: !existsSync('/usr/share/datasets/fashion-mnist') && 'dataset-fashion-mnist not installed' },
  async (t) => {
    const out = join(t.testdir(), 'f.json')
    const want = committed('fmnist-deepn')
    t.same(want.source.command, 'deepn tables build --fmnist --id fmnist-deepn')
    t.equal(await quiet(['build', '--fmnist', '--id', 'fmnist-deepn', '--out', out]), 0)
    const got = JSON.parse(readFileSync(out, 'utf8'))
    t.same(got.luma, want.luma)
    t.equal(got.source.lumaBlocks, 60000 * 16)
    t.same(got.source.lumaSigma, want.source.lumaSigma)
  },
)

// natural-deepn's inputs include five python3-skimage sample photos; .ci/run does not install that package (it
// pulls ~300 packages: matplotlib, scipy, ...), so this check runs where a developer has it and says so elsewhere.
const naturalArgv = (committed('natural-deepn').source.command as string)
  .replace(/^deepn tables /, '')
  .match(/'[^']*'|\S+/g)!
  .map((a) => a.replace(/^'|'$/g, ''))
const missingInputs = naturalArgv.filter((a, i) => naturalArgv[i - 1] === '--images' && !existsSync(a))
t.test(
  'the committed natural-image table is reproduced by its recorded command',
  {
    skip: missingInputs.length > 0 && `inputs missing (mate-backgrounds, python3-skimage): ${missingInputs.join(', ')}`,
  },
  async (t) => {
    const want = committed('natural-deepn')
    const argv = naturalArgv
    const out = join(t.testdir(), 'n.json')
    t.equal(await quiet([...argv, '--out', out]), 0)
    const got = JSON.parse(readFileSync(out, 'utf8'))
    t.same(got.luma, want.luma)
    t.same(got.chroma, want.chroma)
  },
)

t.test('photos: colour statistics, provenance and the scale knob', async (t) => {
  const dir = t.testdir()
  mkdirSync(join(dir, 'img'))
  for (let n = 0; n < 3; n++) {
    const png = new PNG({ width: 48, height: 32 })
    for (let i = 0; i < 48 * 32; i++)
      png.data.set([(i * (n + 3)) & 255, (i >> 2) & 255, (i * 11 + n * 40) & 255, 255], 4 * i)
    writeFileSync(join(dir, 'img', `p${n}.png`), PNG.sync.write(png))
  }
  const out1 = join(dir, 'a.json')
  const out2 = join(dir, 'b.json')
  t.equal(await quiet(['build', '--images', join(dir, 'img'), '--id', 'tiny', '--out', out1]), 0)
  t.equal(
    await quiet([
      'build',
      '--images',
      join(dir, 'img'),
      '--id',
      'tiny2',
      '--scale',
      '2',
      '--plm',
      'qMin=8',
      '--out',
      out2,
    ]),
    0,
  )
  const a = JSON.parse(readFileSync(out1, 'utf8'))
  const b = JSON.parse(readFileSync(out2, 'utf8'))
  t.equal(a.source.lumaBlocks, 3 * 6 * 4)
  t.equal(a.source.chromaBlocks, 3 * 2 * 3 * 2)
  t.equal(a.source.files.length, 3)
  t.equal(b.source.scale, 2)
  t.equal(b.source.plm.qMin, 8)
  t.ok(
    b.luma.every((q: number, k: number) => q >= Math.min(255, a.luma[k])),
    'scale 2 never gives finer steps',
  )
  t.ok(
    b.luma.every((q: number) => q >= 16),
    'the floor qMin·scale holds',
  )
})

t.test('bad invocations name the problem', async (t) => {
  await t.rejects(main(['build', '--id', 'x']), /exactly one of --fmnist or --images/)
  await t.rejects(main(['build', '--fmnist', '--plm', 'zz=1']), /unknown parameter 'zz'/)
  await t.rejects(main(['build', '--fmnist', '--plm', 't1=90']), /t1 < t2/)
  await t.rejects(main(['build', '--fmnist', '--subsampling', '422']), /420 or 444/)
  await t.rejects(main(['build', '--images', '/nonexistent/dir']), /does not exist/)
  await t.rejects(main(['build', '--fmnist', '--scale', '0']), /--scale must be a positive number/)
  // optimize is dispatched to scripts/tables/optimize.ts, which validates options before loading anything
  await t.rejects(main(['optimize', '--calib-size', '0']), /--calib-size must be a number/)
})

t.test('a bad photo is skipped, named and counted; the build goes on', async (t) => {
  const dir = t.testdir()
  mkdirSync(join(dir, 'img'))
  const png = new PNG({ width: 16, height: 16 })
  for (let i = 0; i < 256; i++) png.data.set([i, 255 - i, (i * 7) & 255, 255], 4 * i)
  const good = PNG.sync.write(png)
  writeFileSync(join(dir, 'img', 'a-good.png'), good)
  writeFileSync(join(dir, 'img', 'b-cut.png'), good.subarray(0, good.length >> 1))
  writeFileSync(join(dir, 'img', 'c-text.jpg'), 'not a jpeg at all')
  writeFileSync(join(dir, 'img', 'd-good.png'), good)
  const out = join(dir, 't.json')
  const lines: string[] = []
  const err = console.error
  console.error = (...a: unknown[]) => {
    lines.push(a.join(' '))
  }
  try {
    t.equal(await main(['build', '--images', join(dir, 'img'), '--id', 'skips', '--out', out]), 0)
  } finally {
    console.error = err
  }
  const log = lines.join('\n')
  t.match(
    log,
    /^deepn tables: skipping .*b-cut\.png: PNG: truncated: the file \(\d+ bytes\) ends before its IEND chunk$/m,
    'the truncated file is named with the reason',
  )
  t.match(log, /^deepn tables: skipping .*c-text\.jpg: image: unknown format/m)
  t.notMatch(log, /Input file|VipsJpeg|corrupt header:$/, 'no sharp/libvips internals')
  t.match(log, /wrote .*t\.json: 2 images \(2 skipped: .*b-cut\.png, .*c-text\.jpg\)/)
  const table = JSON.parse(readFileSync(out, 'utf8'))
  t.same(
    table.source.files.map((f: string) => f.split('/').pop()),
    ['a-good.png', 'd-good.png'],
  )
  t.same(
    table.source.skipped.map((f: string) => f.split('/').pop()),
    ['b-cut.png', 'c-text.jpg'],
  )
  writeFileSync(join(dir, 'img', 'a-good.png'), 'x')
  writeFileSync(join(dir, 'img', 'd-good.png'), 'x')
  console.error = () => {}
  try {
    await t.rejects(
      main(['build', '--images', join(dir, 'img'), '--id', 'none', '--out', join(dir, 'none.json')]),
      /no usable image: all 4 failed to decode/,
    )
  } finally {
    console.error = err
  }
})

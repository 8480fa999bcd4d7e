// Evaluation quick mode, end to end, as CI runs it: 1,000 Fashion-MNIST test images through our encoder,
// jpeg-js and the committed ONNX model.
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { main } from '../../scripts/eval/cli'

const root = join(__dirname, '../..')
const sidecar = JSON.parse(readFileSync(join(root, 'config/models/fmnist-cnn.json'), 'utf8'))

async function capture(argv: string[]): Promise<{ code: number; out: string }> {
  const chunks: string[] = []
  const write = process.stdout.write.bind(process.stdout)
  const log = console.log
  process.stdout.write = ((s: string) => {
    chunks.push(String(s))
    return true
  }) as typeof process.stdout.write
  console.log = (...a: unknown[]) => {
    chunks.push(`${a.join(' ')}\n`)
  }
  try {
    const code = await main(argv)
    return { code, out: chunks.join('') }
  } finally {
    process.stdout.write = write
    console.log = log
  }
}

t.test(
  'quick sweep',
  { skip: !existsSync('/usr/share/datasets/fashion-mnist') && 'dataset-fashion-mnist not installed' },
  async (t) => {
    const dir = t.testdir()
    const cwd = process.cwd()
    process.chdir(root) // the CLI's defaults are repository-relative, as documented
    let res
    try {
      res = await capture(['--quick', '--tables', 'config/tables/fmnist-deepn.json', '--out', dir, '--name', 'q'])
    } finally {
      process.chdir(cwd)
    }
    t.equal(res.code, 0)

    const clean = /clean \(no codec\): ([\d.]+)%/.exec(res.out)
    t.ok(clean, 'report states the clean accuracy')
    t.equal(
      Number(clean![1]),
      Number((100 * sidecar.cleanAccuracy.quickSubset).toFixed(2)),
      'clean accuracy on the subset matches the committed figure',
    )
    t.equal(sidecar.cleanAccuracy.quickSubsetSize, 1000)

    const rows = readFileSync(join(dir, 'q.csv'), 'utf8').trim().split('\n')
    const head = rows[0].split(',')
    const pts = rows.slice(1).map((r) => Object.fromEntries(r.split(',').map((v, i) => [head[i], v])))
    const jpeg = pts
      .filter((p) => p.curve === 'jpeg')
      .map((p) => ({
        q: Number(p.quality),
        bytes: Number(p.meanBytes),
        scan: Number(p.meanScanBytes),
        acc: Number(p.accuracy),
      }))
      .sort((a, b) => a.q - b.q)
    const deepn = pts
      .filter((p) => p.curve === 'fmnist-deepn')
      .map((p) => ({ s: Number(p.scale), bytes: Number(p.meanBytes), acc: Number(p.accuracy) }))
      .sort((a, b) => a.s - b.s)
    t.ok(jpeg.length >= 5 && deepn.length >= 3, 'both curves swept')
    for (let i = 1; i < jpeg.length; i++)
      t.ok(
        jpeg[i].bytes > jpeg[i - 1].bytes,
        `JPEG bytes fall as quality falls: q${jpeg[i].q} ${jpeg[i].bytes} > q${jpeg[i - 1].q} ${jpeg[i - 1].bytes}`,
      )
    for (let i = 1; i < deepn.length; i++)
      t.ok(deepn[i].bytes < deepn[i - 1].bytes, `DeepN bytes fall as scale grows: x${deepn[i].s}`)
    for (const p of jpeg) t.ok(p.scan > 0 && p.scan < p.bytes, 'scan bytes are part of the file')
    const q100 = jpeg[jpeg.length - 1]
    t.equal(q100.q, 100)
    t.ok(
      Math.abs(q100.acc - sidecar.cleanAccuracy.quickSubset) <= 0.01,
      `q100 accuracy ${q100.acc} within 1 pt of clean`,
    )
    t.ok(jpeg[0].acc < q100.acc, 'heavy compression costs accuracy')

    const svg = readFileSync(join(dir, 'q.svg'), 'utf8')
    t.match(svg, /^<svg /)
    t.equal((svg.match(/<polyline /g) ?? []).length, 2, 'one line per curve')
    t.ok(existsSync(join(dir, 'q-scan.svg')) && existsSync(join(dir, 'q.md')))
    t.match(res.out, /\| fmnist-deepn \| whole file \| q100 − 95% band/)
  },
)

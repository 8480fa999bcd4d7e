/**
 * The table optimiser: pure search pieces on a toy evaluator, then `deepn tables optimize` end to end on a tiny
 * Fashion-MNIST train slice (real model, real encoder, jpeg-js): deterministic for a seed, the emitted table
 * validates, and re-measured independently with the real codec it never falls below its accuracy target.
 */
import t from 'tap'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseTableFile } from '../../../shared/codec/tables'
import {
  boundedRandomSearch,
  lagrangianDescent,
  mulberry32,
  sampleIndices,
  scaleSteps,
  stepDown,
  stepUp,
  type Evaluator,
  type Score,
} from '../../../shared/deepn/optimize'
import { Classifier } from '../../../scripts/eval/classifier'
import { loadFashionMnist } from '../../../scripts/eval/dataset'
import { evaluate, ourEncoder } from '../../../scripts/eval/evaluate'
import { main as optimize, subset } from '../../../scripts/tables/optimize'

t.test('seeded PRNG, sampling, notches and the scale knob', async (t) => {
  const a = mulberry32(42)
  const b = mulberry32(42)
  const xs = Array.from({ length: 5 }, () => a())
  t.same(
    Array.from({ length: 5 }, () => b()),
    xs,
    'same seed, same sequence',
  )
  t.not(mulberry32(43)(), xs[0], 'another seed, another sequence')
  t.ok(xs.every((x) => x >= 0 && x < 1))
  const idx = sampleIndices(1000, 50, mulberry32(1))
  t.equal(new Set(idx).size, 50, 'distinct')
  t.same(
    idx,
    [...idx].sort((x, y) => x - y),
    'sorted',
  )
  t.same(sampleIndices(1000, 50, mulberry32(1)), idx, 'reproducible')
  t.throws(() => sampleIndices(3, 4, mulberry32(1)), /cannot sample 4 items from 3/)
  t.equal(stepUp(1, 1.3), 2, 'at least +1')
  t.equal(stepUp(100, 1.3), 130)
  t.equal(stepUp(250, 1.3), 255, 'baseline ceiling')
  t.equal(stepDown(1, 1.3), 1, 'floor')
  t.equal(stepDown(130, 1.3), 100)
  t.same(scaleSteps([1, 100, 200], 1.5), [2, 150, 255])
  t.same(scaleSteps([3, 10], 0.01), [1, 1])
  t.throws(() => scaleSteps([1], 0), /scale must be a positive/)
})

/** A toy calibration set: each step k costs bytes ~ w_k / q_k and adds loss ~ s_k * q_k. Optimum: q_k = sqrt(w_k / (λ s_k)). */
class Toy implements Evaluator {
  readonly count = 100
  table: number[]
  constructor(
    start: number[],
    private readonly w: number[],
    private readonly s: number[],
  ) {
    this.table = start.slice()
  }
  private score(t: number[]): Score {
    let bytes = 0,
      loss = 0
    t.forEach((q, k) => {
      bytes += this.w[k] / q
      loss += this.s[k] * q
    })
    return { bytes, loss, correct: Math.max(0, 100 - Math.round(loss)) }
  }
  current(): Score {
    return this.score(this.table)
  }
  async tryMove(k: number, q: number): Promise<Score> {
    const t = this.table.slice()
    t[k] = q
    return this.score(t)
  }
  async apply(k: number, q: number): Promise<void> {
    this.table[k] = q
  }
  async evaluate(t: number[]): Promise<Score> {
    this.table = t.slice()
    return this.score(t)
  }
}

t.test(
  'Lagrangian descent lowers J every move, moves toward the closed-form optimum, and is deterministic',
  async (t) => {
    const rand = mulberry32(7)
    const w = Array.from({ length: 64 }, () => 100 + 900 * rand())
    const s = Array.from({ length: 64 }, () => 0.001 + 0.02 * rand())
    const lambda = 2
    const run = async () => {
      const ev = new Toy(new Array(64).fill(16), w, s)
      return { res: await lagrangianDescent(ev.table, ev, { lambda, factor: 1.1, maxEvals: 5000, seed: 5 }), ev }
    }
    const { res, ev } = await run()
    t.equal(res.stoppedBy, 'converged')
    const J = (p: { bytes: number; loss: number }) => p.bytes + lambda * p.loss
    t.ok(res.path.length > 64, `it moved (${res.path.length - 1} moves)`)
    t.ok(
      res.path.every((p, i) => i === 0 || J(p) < J(res.path[i - 1])),
      'every accepted move lowers J',
    )
    const opt = w.map((wk, k) => Math.min(255, Math.max(1, Math.sqrt(wk / (lambda * s[k])))))
    const err = ev.table.reduce((m, q, k) => Math.max(m, Math.abs(Math.log(q / opt[k]))), 0)
    t.ok(err < Math.log(1.25), `every step within one notch-ish of the optimum (max log error ${err.toFixed(3)})`)
    const again = await run()
    t.same(again.ev.table, ev.table, 'same seed, same table')
    t.same(
      again.res.path.map((p) => p.move),
      res.path.map((p) => p.move),
      'same seed, same moves',
    )
    await t.rejects(lagrangianDescent(new Array(63).fill(1), ev, { lambda: 1 }), /64 steps/)
    await t.rejects(lagrangianDescent(ev.table, ev, { lambda: 0 }), /lambda must be a positive/)
  },
)

t.test('bounded random search lowers J every kept candidate and is deterministic', async (t) => {
  const rand = mulberry32(9)
  const w = Array.from({ length: 64 }, () => 100 + 900 * rand())
  const s = Array.from({ length: 64 }, () => 0.001 + 0.02 * rand())
  const lambda = 2
  const J = (p: { bytes: number; loss: number }) => p.bytes + lambda * p.loss
  const run = async () => {
    const ev = new Toy(new Array(64).fill(16), w, s)
    return { res: await boundedRandomSearch(ev.table, ev, { lambda, maxEvals: 400, seed: 4 }), ev }
  }
  const { res, ev } = await run()
  t.ok(res.path.length > 1, `it improved ${res.path.length - 1} times`)
  t.ok(
    res.path.every((p, i) => i === 0 || J(p) < J(res.path[i - 1])),
    'every kept candidate lowers J',
  )
  t.same(ev.table, res.path[res.path.length - 1].luma, 'the evaluator is left at the result')
  t.same((await run()).ev.table, ev.table, 'same seed, same table')
  t.ok(J(res.path[res.path.length - 1]) < J(res.path[0]) * 0.9, 'J fell by more than 10 % on this separable toy')
  await t.rejects(boundedRandomSearch(new Array(63).fill(1), ev, { lambda: 1 }), /64 steps/)
})

t.test(
  'deepn tables optimize on a tiny train slice: deterministic, valid, never below target on its calibration data',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'deepn-opt-'))
    const args = (out: string) => [
      '--calib-size',
      '100',
      '--seed',
      '3',
      '--max-evals',
      '24',
      '--start',
      'annexk',
      '--target-drop',
      '0.02',
      '--out',
      out,
    ]
    t.equal(await optimize(args(join(dir, 'a.json'))), 0)
    t.equal(await optimize(args(join(dir, 'b.json'))), 0)
    const a = parseTableFile(readFileSync(join(dir, 'a.json'), 'utf8'), 'a.json')
    const b = parseTableFile(readFileSync(join(dir, 'b.json'), 'utf8'), 'b.json')
    t.same(a.luma, b.luma, 'same seed, same table')
    t.same(a.chroma, a.luma, 'chroma: a valid copy of luma for gray data')
    const src = a.source as {
      objective: { targetAccuracy: number }
      seed: number
      model: { sha256: string }
      data: string
      curve: { points: unknown[] }
      calibration: { chosen: { accuracy: number } }
    }
    t.equal(src.seed, 3)
    t.match(src.data, /fashion-mnist train sample\(100, seed 3\)/)
    t.match(src.model.sha256, /^[0-9a-f]{64}$/)
    t.ok(src.curve.points.length >= 5, 'records the curve it reached')
    // independent re-measurement with the real encoder + jpeg-js on the same calibration images
    const calib = subset(loadFashionMnist('train'), 100, 3)
    const classifier = await Classifier.load('config/models/fmnist-cnn.onnx')
    t.teardown(() => classifier.release())
    const real = await evaluate({ tables: { luma: a.luma, chroma: a.chroma } }, calib, {
      classifier,
      encode: ourEncoder(),
    })
    t.ok(
      real.accuracy >= src.objective.targetAccuracy,
      `calibration accuracy ${real.accuracy} >= target ${src.objective.targetAccuracy}`,
    )
    t.equal(real.accuracy, src.calibration.chosen.accuracy, 'the recorded figure is the real one')
    // the table ships its own trained Huffman set: same pixels (so same accuracy), fewer scan bytes on its data
    t.ok(a.huffman, 'emits a trained Huffman set')
    t.same(a.huffman, b.huffman, 'same seed, same Huffman set')
    const withSet = await evaluate({ tables: { luma: a.luma, chroma: a.chroma }, huffman: a.huffman }, calib, {
      classifier,
      encode: ourEncoder(),
    })
    t.equal(withSet.accuracy, real.accuracy, 'the entropy code does not change the decoded pixels')
    t.ok(
      withSet.meanScanBytes < real.meanScanBytes,
      `trained set: ${withSet.meanScanBytes} < ${real.meanScanBytes} scan B/image with Annex K Huffman`,
    )
    t.equal(
      (src as unknown as { huffman: { calibration: { meanScanBytes: number } } }).huffman.calibration.meanScanBytes,
      Math.round(withSet.meanScanBytes * 10) / 10,
      'recorded with-set figure is the real one',
    )
    // the test-split report over the same table: all three curves, both metrics, CSV + SVG
    const rep = join(dir, 'report')
    t.equal(
      await optimize([
        'report',
        '--tables',
        join(dir, 'a.json'),
        '--limit',
        '40',
        '--out',
        rep,
        '--name',
        'optimized-smoke',
      ]),
      0,
    )
    const csv = readFileSync(join(rep, 'optimized-smoke.csv'), 'utf8')
    for (const c of ['jpeg', 'jpeg-optimize', 'jpeg-trained-huffman', 'fmnist-deepn', a.id, `${a.id}\\+huffman`])
      t.match(csv, new RegExp(`^${c},`, 'm'), `curve ${c} in the CSV`)
    const ratios = readFileSync(join(rep, 'optimized-smoke-ratios.csv'), 'utf8')
    t.match(ratios, /^curve,baseline,rate,targetAccuracy,honestRatio,paperRatio\n/)
    for (const b of ['jpeg', 'jpeg-optimize', 'jpeg-trained-huffman'])
      t.match(
        ratios,
        new RegExp(`^${a.id}\\+huffman,${b},meanScanBytes,`, 'm'),
        `ratios of the table with its set vs ${b}`,
      )
    t.match(readFileSync(join(rep, 'optimized-smoke.svg'), 'utf8'), /^<svg[\s\S]*<\/svg>\n$/)
    t.match(readFileSync(join(rep, 'optimized-smoke.md'), 'utf8'), /honest ratio/)
    await t.rejects(optimize(['report']), /report needs --tables/)
    await t.rejects(
      optimize([
        '--calib-size',
        '100',
        '--target-accuracy',
        '1',
        '--max-evals',
        '2',
        '--start',
        'annexk',
        '--out',
        join(dir, 'c.json'),
      ]),
      /no start reaches accuracy 100\.00%/,
    )
    await t.rejects(optimize(['--target-accuracy', '0.9', '--max-bytes', '400']), /at most one of/)
    await t.rejects(optimize(['--id', 'no spaces']), /--id must be 1\.\.64 of/)
    await t.rejects(optimize(['--loss', 'mse']), /--loss must be kl or nll/)
    await t.rejects(optimize(['--search', 'annealing']), /--search must be descent or random/)
    await t.rejects(optimize(['--start', 'jpeg']), /unknown start table 'jpeg'/)
    await t.rejects(optimize(['--factor', '1']), /--factor must be a number in 1\.01\.\.4/)
  },
)

/**
 * The agent's collection after every large frame (agent/pipeline/reclaim.ts) must not throw away optimised code.
 * A last-resort collection (plain `gc()`) also drops the maps of classes with no live object, and with them the
 * optimised code that checked those maps: the codec's per-frame objects (bit writer, progressive scan coder) have
 * none between frames, so every two-pass encode after a collection started deoptimised (1080p progressive 15 -> 60
 * ms of CPU). A child process with V8's natives syntax asks whether a hot function is still optimised after five
 * rounds of "collection, frame": with reclaimAfterFrame after two-pass and after baseline frames, and with plain
 * gc() as the control. Single-threaded:
 * with concurrent compilation and marking, when code is optimised and which collection drops the map vary by run.
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'

const RECLAIM = resolve(__dirname, '../../dist/agent/pipeline/reclaim.js')
const ROUNDS = 5

const child = (collect: 'two-pass' | 'baseline' | 'plain'): boolean[] => {
  // semicolons throughout: a line starting with % after one without would parse as a modulo
  const script = `
    const { reclaimAfterFrame } = require(${JSON.stringify(RECLAIM)});
    class Coder { constructor(buf) { this.buf = buf; this.n = 0; } add(i) { this.n += this.buf[i]; } }
    function work(c) { for (let i = 0; i < 2000; i++) c.add(i & 1023); return c.n; }
    // a frame: its coder dies with it, as the codec's do
    const frame = () => work(new Coder(new Int16Array(1024).fill(1)));
    %PrepareFunctionForOptimization(work);
    frame();
    frame();
    %OptimizeFunctionOnNextCall(work);
    frame();
    const optimised = () => (%GetOptimizationStatus(work) & 16) !== 0;
    const states = [optimised()];
    for (let r = 0; r < ROUNDS; r++) {
      ${collect === 'plain' ? 'gc();' : `reclaimAfterFrame(4 * 1024 * 1024, ${collect === 'two-pass'});`}
      frame();
      states.push(optimised());
    }
    process.stdout.write(JSON.stringify(states));
  `.replace('ROUNDS', String(ROUNDS))
  const r = spawnSync(process.execPath, ['--single-threaded', '--allow-natives-syntax', '--expose-gc', '-e', script], {
    encoding: 'utf8',
  })
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`)
  return JSON.parse(r.stdout) as boolean[]
}

t.test('optimised code survives the collection after each large frame', async (t) => {
  const control = child('plain')
  t.equal(control[0], true, 'the hot function is optimised before any collection')
  t.ok(
    control.includes(false),
    `control: a last-resort gc() deoptimises it (${JSON.stringify(control)}), the hazard this guards against`,
  )
  t.same(
    child('two-pass'),
    new Array(ROUNDS + 1).fill(true),
    `after two-pass encodes reclaimAfterFrame keeps it optimised through ${ROUNDS} frames`,
  )
  t.same(
    child('baseline'),
    control,
    'after baseline encodes it collects as gc() does (the memory-reducing flavour the RSS target is measured with)',
  )
})

/**
 * Files the commands write: never an input, never an existing table without --force (a shipped table in
 * config/tables least of all), and atomically — a full disk leaves no truncated or empty file and keeps the old one.
 */
import t, { type Test } from 'tap'
import { execFileSync, spawn } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { dispatch } from '../../agent/cli'
import { cannotMountTmpfs } from '../helpers/tmpfs'

const ROOT = resolve(__dirname, '../..')
const PPM = join(ROOT, 'test/fixtures/images/ladybird-61x47.ppm')
const PNG = join(ROOT, 'test/fixtures/images/ladybird-61x47.png')

async function run(argv: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = []
  const log = console.log,
    error = console.error
  console.log = () => {}
  console.error = (...a: unknown[]) => {
    err.push(a.join(' '))
  }
  try {
    return { code: await dispatch(argv), err: err.join('\n') }
  } finally {
    console.log = log
    console.error = error
  }
}

/** `deepn …` as a child process in `cwd` (the sources, through tap's TypeScript loader), killed after 60 s. */
function spawnCli(argv: string[], cwd: string): Promise<{ code: number | null; out: string }> {
  const p = spawn(process.execPath, [join(ROOT, 'dist/agent/cli.js'), ...argv], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  p.stdout.on('data', (d) => {
    out += d
  })
  p.stderr.on('data', (d) => {
    out += d
  })
  const timer = setTimeout(() => p.kill('SIGKILL'), 60000)
  return new Promise((res) =>
    p.once('exit', (code) => {
      clearTimeout(timer)
      res({ code, out })
    }),
  )
}

function tmp(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'deepn-outputs-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('encode refuses to overwrite its input, however it is spelled', async (t) => {
  const dir = tmp(t)
  const input = join(dir, 'x.ppm')
  copyFileSync(PPM, input)
  const before = readFileSync(input)
  linkSync(input, join(dir, 'hard-link.ppm'))
  for (const out of [input, join(dir, 'sub', '..', 'x.ppm'), join(dir, 'hard-link.ppm')]) {
    mkdirSync(join(dir, 'sub'), { recursive: true })
    const r = await run(['encode', input, '-o', out])
    t.equal(r.code, 2, `-o ${out}`)
    t.match(r.err, /^deepn encode: -o .* is the input .*x\.ppm: refusing to overwrite it/)
  }
  const table = join(dir, 't.json')
  writeFileSync(table, JSON.stringify({ id: 't', luma: new Array(64).fill(4), chroma: new Array(64).fill(8) }))
  t.equal((await run(['encode', input, '-o', table, '--tables', table])).code, 2, 'nor its table file')
  t.same(readFileSync(input), before, 'input untouched')
  t.equal(JSON.parse(readFileSync(table, 'utf8')).id, 't')
  t.equal((await run(['encode', input, '-o', join(dir, 'o.jpg')])).code, 0, 'an ordinary output is fine')
  t.equal((await run(['encode', input, '-o', join(dir, 'o.jpg')])).code, 0, 'and is replaced like cjpeg does')
  t.same(
    readdirSync(dir).filter((f) => f.startsWith('.tmp-')),
    [],
    'no temp files left',
  )
})

t.test('tables build never silently replaces a table, a shipped one least of all', async (t) => {
  const cwd = tmp(t)
  mkdirSync(join(cwd, 'config/tables'), { recursive: true })
  const shipped = join(cwd, 'config/tables/natural-deepn.json')
  copyFileSync(join(ROOT, 'config/tables/natural-deepn.json'), shipped)
  const before = readFileSync(shipped, 'utf8')
  mkdirSync(join(cwd, 'img'))
  copyFileSync(PNG, join(cwd, 'img/a.png'))
  // as the issue ran it: from a checkout's root, default --out config/tables/<id>.json
  const r = await spawnCli(['tables', 'build', '--images', 'img', '--id', 'natural-deepn'], cwd)
  t.equal(r.code, 2, r.out)
  t.match(r.out, /deepn tables: --out config\/tables\/natural-deepn\.json already exists: pass --force to replace it/)
  t.equal(readFileSync(shipped, 'utf8'), before, 'shipped table untouched')
  const forced = await spawnCli(['tables', 'build', '--images', 'img', '--id', 'natural-deepn', '--force'], cwd)
  t.equal(forced.code, 0, forced.out)
  t.not(readFileSync(shipped, 'utf8'), before, '--force replaces it')
})

t.test('calibrate and tables optimize refuse an existing --out without --force', async (t) => {
  const dir = tmp(t)
  const cfg = join(dir, 'agent.json')
  writeFileSync(cfg, JSON.stringify({ deviceId: 'out-cam', capture: { source: 'synthetic', width: 32, height: 16 } }))
  const out = join(dir, 'table.json')
  writeFileSync(out, 'precious\n')
  const r = await run(['calibrate', '--config', cfg, '--frames', '2', '--out', out])
  t.equal(r.code, 2)
  t.match(r.err, /^deepn calibrate: --out .*table\.json already exists: pass --force/)
  t.equal(readFileSync(out, 'utf8'), 'precious\n')
  t.equal((await run(['calibrate', '--config', cfg, '--frames', '2', '--out', out, '--force'])).code, 0)
  t.match(readFileSync(out, 'utf8'), /"id": "calibrated-out-cam"/)
  const o = await run(['tables', 'optimize', '--out', out, '--max-evals', '1'])
  t.equal(o.code, 2, 'optimize: refused before the search')
  t.match(o.err, /^deepn tables: --out .*table\.json already exists/)
})

t.test(
  'a full disk leaves no truncated output and keeps the previous file',
  { skip: cannotMountTmpfs() },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'deepn-full-'))
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'pipe' })
    t.teardown(() => {
      execFileSync('umount', ['-l', dir])
      rmSync(dir, { recursive: true, force: true })
    })
    const oldTable = join(dir, 't.json')
    writeFileSync(oldTable, '{"old": true}\n')
    // fill the file system to the last byte
    try {
      for (let i = 0; ; i++) writeFileSync(join(dir, `fill-${i}`), Buffer.alloc(4096, 1))
    } catch (err) {
      t.equal((err as NodeJS.ErrnoException).code, 'ENOSPC', 'disk filled')
    }
    try {
      writeFileSync(join(dir, 'fill-last'), Buffer.alloc(1))
    } catch {
      /* already full */
    }

    const jpg = join(dir, 'o.jpg')
    const e = await run(['encode', PPM, '-o', jpg])
    t.equal(e.code, 1)
    t.match(e.err, /^deepn encode: cannot write .*o\.jpg: no space left on device$/)
    t.notOk(existsSync(jpg), 'no empty or truncated o.jpg')

    const img = tmp(t)
    copyFileSync(PNG, join(img, 'a.png'))
    const b = await run(['tables', 'build', '--images', img, '--id', 'x', '--out', oldTable, '--force'])
    t.equal(b.code, 1)
    t.match(b.err, /^deepn tables: cannot write .*t\.json: no space left on device$/)
    t.equal(readFileSync(oldTable, 'utf8'), '{"old": true}\n', 'the previous table is intact')
    t.same(
      readdirSync(dir).filter((f) => f.startsWith('.tmp-')),
      [],
      'no temp files left',
    )
  },
)

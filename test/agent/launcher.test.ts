/**
 * The `deepn` command (agent/bin/deepn): for `run` it starts node with the start-time memory settings, for
 * `receive` with a larger young generation, a value the user already set winning; other commands get none; reached through a symlink, as npm links it, it still
 * finds the CLI. A fake `node` first on PATH records what it was started with (the packed agent's real start
 * through the command is in test/package/pack.test.ts).
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const root = realpathSync(resolve(__dirname, '../..')) // the command resolves links (pwd -P)
const launcher = join(root, 'agent/bin/deepn')
const cli = join(root, 'dist/agent/cli.js')
const work = mkdtempSync(join(tmpdir(), 'deepn-launcher-'))
t.teardown(() => rmSync(work, { recursive: true, force: true }))

const fakeBin = join(work, 'bin')
mkdirSync(fakeBin)
const record = join(work, 'started') // <record>.args, <record>.env
writeFileSync(join(fakeBin, 'node'), `#!/bin/sh\nprintf '%s\\n' "$@" > ${record}.args\nenv > ${record}.env\n`)
chmodSync(join(fakeBin, 'node'), 0o755)

const MEMORY_ENV = ['MALLOC_ARENA_MAX', 'MALLOC_MMAP_THRESHOLD_', 'UV_THREADPOOL_SIZE', 'NODE_OPTIONS']

/** Runs the command (or `via`, a link to it) with `env` over a clean environment; what the fake node received. */
function start(args: string[], env: Record<string, string> = {}, via = launcher) {
  const base: NodeJS.ProcessEnv = { ...process.env, PATH: `${fakeBin}:${process.env.PATH}` }
  for (const k of MEMORY_ENV) delete base[k]
  const r = spawnSync(via, args, { env: { ...base, ...env }, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`deepn exited ${r.status}: ${r.stderr}`)
  const argv = readFileSync(`${record}.args`, 'utf8').trimEnd().split('\n')
  const vars = Object.fromEntries(
    readFileSync(`${record}.env`, 'utf8')
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  )
  return { argv, env: vars as Record<string, string | undefined> }
}

t.test('deepn run: node with the start-time memory settings', async (t) => {
  const r = start(['run', '--config', '/etc/deepn-edge/config.json'])
  t.same(r.argv, ['--max-semi-space-size=2', cli, 'run', '--config', '/etc/deepn-edge/config.json'])
  t.equal(r.env.MALLOC_ARENA_MAX, '2')
  t.equal(r.env.MALLOC_MMAP_THRESHOLD_, '262144')
  t.equal(r.env.UV_THREADPOOL_SIZE, '2')
})

t.test("the user's own values win", async (t) => {
  const r = start(['run'], {
    MALLOC_ARENA_MAX: '4',
    MALLOC_MMAP_THRESHOLD_: '65536',
    UV_THREADPOOL_SIZE: '8',
    NODE_OPTIONS: '--max-semi-space-size=16',
  })
  t.same(r.argv, [cli, 'run'], 'no second semi-space flag beside NODE_OPTIONS')
  t.equal(r.env.MALLOC_ARENA_MAX, '4')
  t.equal(r.env.MALLOC_MMAP_THRESHOLD_, '65536')
  t.equal(r.env.UV_THREADPOOL_SIZE, '8')
  t.match(r.env.NODE_OPTIONS, /--max-semi-space-size=16/) // tap adds its own loader to a child's NODE_OPTIONS
})

t.test('deepn receive: a larger young generation, unless the user chose one', async (t) => {
  t.same(start(['receive', '--out', 'ds']).argv, ['--max-semi-space-size=16', cli, 'receive', '--out', 'ds'])
  t.same(start(['receive'], { NODE_OPTIONS: '--max-semi-space-size=4' }).argv, [cli, 'receive'])
  t.equal(start(['receive']).env.MALLOC_ARENA_MAX, undefined, "the agent's glibc settings are not the receiver's")
})

t.test('other commands run with Node defaults', async (t) => {
  const r = start(['encode', 'in.ppm', '-o', 'out.jpg'])
  t.same(r.argv, [cli, 'encode', 'in.ppm', '-o', 'out.jpg'])
  for (const k of ['MALLOC_ARENA_MAX', 'MALLOC_MMAP_THRESHOLD_', 'UV_THREADPOOL_SIZE']) t.equal(r.env[k], undefined, k)
})

t.test('through a link, as npm installs it in node_modules/.bin, it still finds the CLI', async (t) => {
  const dotBin = join(work, 'node_modules/.bin')
  mkdirSync(dotBin, { recursive: true })
  symlinkSync(launcher, join(dotBin, 'deepn'))
  t.same(start(['--version'], {}, join(dotBin, 'deepn')).argv, [cli, '--version'])
})

/**
 * The package a Pi installs: `npm pack` of a fresh copy of the sources (the prepack script builds dist/), then the
 * tarball extracted and installed as scripts/install/install-pi.sh does it (`npm install --omit=dev --omit=peer`). The
 * installed agent must run without TypeScript or the backend-only packages, and the backend commands must say in
 * one line which package to install.
 *
 * One shortcut, said here: the install runs with --ignore-scripts and takes better-sqlite3's native binary from this
 * checkout (same Node, same machine). Its compile step is better-sqlite3's own and `npm ci` exercises it; building
 * it again would cost this test minutes.
 */
import t from 'tap'
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { startMosquitto } from '../helpers/mosquitto'
import { subscribe } from '../helpers/subscriber'

const root = join(__dirname, '../..')
const work = mkdtempSync(join(tmpdir(), 'deepn-pack-'))
t.teardown(() => {
  spawnSync('rm', ['-rf', work])
})

/** The tracked and untracked-but-not-ignored files, as a fresh clone of this work tree would have them. */
function copySources(to: string): void {
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\0')
    .filter(Boolean)
  for (const f of files) {
    if (!existsSync(join(root, f))) continue // deleted in the work tree
    if (f.split('/')[0] === 'node_modules') continue // a symlinked node_modules (a git worktree) is not ignored by `node_modules/`; linked below
    mkdirSync(dirname(join(to, f)), { recursive: true })
    cpSync(join(root, f), join(to, f))
  }
  symlinkSync(join(root, 'node_modules'), join(to, 'node_modules'))
}

interface PackResult {
  filename: string
  files: { path: string }[]
}

const src = join(work, 'src')
copySources(src)
const packed = JSON.parse(
  execFileSync('npm', ['pack', '--json', '--pack-destination', work], {
    cwd: src,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }),
) as PackResult[]
const tarball = join(work, packed[0].filename)
const files = packed[0].files.map((f) => f.path)

t.test('the tarball holds the built CLI, config and docs, and no tests or sources', async (t) => {
  for (const f of [
    'package.json',
    'README.md',
    'dist/agent/cli.js',
    'agent/bin/deepn',
    'dist/agent/commands/run.js',
    'dist/shared/codec/index.js',
    'dist/shared/codec/index.d.ts',
    'dist/shared/contract/index.js',
    'dist/shared/contract/index.d.ts',
    'docs/protocol.md',
    'dist/scripts/backend/receive/cli.js',
    'config/tables/natural-deepn.json',
    'config/models/fmnist-cnn.onnx',
    'docs/config.md',
    'scripts/install/install-pi.sh',
    'scripts/install/deepn-edge.service',
  ]) {
    t.ok(files.includes(f), `ships ${f}`)
  }
  const unwanted = files.filter(
    (f) =>
      f.startsWith('test/') ||
      f.startsWith('dist/test/') ||
      f.startsWith('.ci/') ||
      f.endsWith('.py') ||
      f.endsWith('.map') ||
      (f.endsWith('.ts') && !f.endsWith('.d.ts')) ||
      f === 'tsconfig.json' ||
      f === 'package-lock.json',
  )
  t.same(unwanted, [], 'no tests, CI, TypeScript sources, source maps or Python trainer')
})

const inst = join(work, 'opt')
mkdirSync(inst)
execFileSync('tar', ['-C', inst, '--strip-components=1', '-xzf', tarball])
execFileSync(
  'npm',
  [
    'install',
    '--omit=dev',
    '--omit=peer',
    '--no-audit',
    '--no-fund',
    '--no-package-lock',
    '--prefer-offline',
    '--ignore-scripts',
  ],
  { cwd: inst, stdio: 'pipe' },
)
const nativeRel = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'
mkdirSync(dirname(join(inst, nativeRel)), { recursive: true })
cpSync(join(root, nativeRel), join(inst, nativeRel))
const cli = join(inst, 'dist/agent/cli.js')
/** The `deepn` command (package.json bin), which the systemd unit starts too. */
const launcher = join(inst, 'agent/bin/deepn')

t.test('a device install has the runtime dependencies and nothing for development or the backend', async (t) => {
  for (const dep of ['mqtt', 'better-sqlite3', 'jpeg-js', 'node-raspistill'])
    t.ok(existsSync(join(inst, 'node_modules', dep)), `${dep} installed`)
  for (const dep of [
    'typescript',
    'tap',
    'onnxruntime-web',
    'sharp',
    '@tapjs/core',
    '@tensorflow/tfjs-core',
    '@tensorflow-models/coco-ssd',
  ])
    t.notOk(existsSync(join(inst, 'node_modules', dep)), `${dep} not installed`)
})

t.test('the deepn command is an executable file in the tarball', async (t) => {
  t.equal(JSON.parse(readFileSync(join(inst, 'package.json'), 'utf8')).bin.deepn, 'agent/bin/deepn')
  const listing = execFileSync('tar', ['-tvzf', tarball, 'package/agent/bin/deepn'], { encoding: 'utf8' })
  t.match(listing, /^-rwx/, 'mode in the tarball is executable')
})

t.test('the installed agent, started by the deepn command, runs and publishes frames to a real broker', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const sub = await subscribe(broker.url, ['deepn/+/frames'])
  t.teardown(() => sub.close())
  const dir = mkdtempSync(join(work, 'agent-'))
  const config = join(dir, 'config.json')
  writeFileSync(
    config,
    JSON.stringify({
      deviceId: 'packed',
      mqtt: { url: broker.url },
      capture: { source: 'synthetic', width: 64, height: 48, intervalMs: 50 },
      buffer: { path: join(dir, 'buffer.db') },
    }),
  )
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` }
  for (const k of ['NODE_OPTIONS', 'MALLOC_ARENA_MAX', 'MALLOC_MMAP_THRESHOLD_', 'UV_THREADPOOL_SIZE']) delete env[k]
  const agent = spawn(launcher, ['run', '--config', config], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env })
  let out = ''
  agent.stdout.on('data', (d) => {
    out += d
  })
  agent.stderr.on('data', (d) => {
    out += d
  })
  const exited = new Promise<number | null>((res) => agent.once('exit', (code) => res(code)))
  t.teardown(() => {
    agent.kill('SIGKILL')
  })
  await sub.waitFor(
    () => sub.on('frames').length >= 2 || agent.exitCode !== null,
    30000,
    'two frames from the packed agent',
  )
  t.equal(agent.exitCode, null, 'the agent is still running', { output: out })
  // the command exec'd node with the start-time memory settings (the agent's pid is node's, not a shell's)
  const environ = readFileSync(`/proc/${agent.pid}/environ`, 'utf8').split('\0')
  t.ok(environ.includes('MALLOC_ARENA_MAX=2'), 'glibc arenas bounded', { environ })
  t.ok(environ.includes('MALLOC_MMAP_THRESHOLD_=262144'), 'mmap threshold fixed')
  const argv = readFileSync(`/proc/${agent.pid}/cmdline`, 'utf8').split('\0')
  t.ok(argv.includes('--max-semi-space-size=2') && argv.includes(cli), 'node runs the CLI with a 2 MiB semi-space', {
    argv,
  })
  const jpeg = sub.on('frames')[0].payload
  t.equal(jpeg.readUInt16BE(0), 0xffd8, 'a JPEG arrived')
  agent.kill('SIGTERM')
  t.equal(await exited, 0, 'stops cleanly on SIGTERM')
})

t.test(
  'a backend project imports the protocol as deepn-edge/contract (code and types), and nothing outside exports',
  async (t) => {
    const app = mkdtempSync(join(work, 'backend-'))
    mkdirSync(join(app, 'node_modules'))
    symlinkSync(inst, join(app, 'node_modules/deepn-edge'))
    const script = [
      "const c = require('deepn-edge/contract')",
      "const meta = { seq: 7, capturedAt: '2026-12-02T06:00:00.000Z', tableId: 't', deviceId: 'cam-1', width: 8, height: 8 }",
      "const out = { topic: c.topic(c.DEFAULT_PREFIX, 'cam-1', c.Leaf.ack), ack: c.parseAck(c.buildAck(7)), meta: c.parseFrameMetadata(c.frameMetadataRecord(meta)),",
      "  result: c.parseConfigResult(c.buildConfigResult(c.configApplied('r1', ['delivery']))), badId: c.deviceIdProblem('-cam') !== undefined }",
      "let refused = ''",
      "try { require('deepn-edge/dist/shared/contract/index.js') } catch (e) { refused = e.code }",
      'console.log(JSON.stringify({ ...out, refused }))',
    ].join('\n')
    const r = spawnSync(process.execPath, ['-e', script], { cwd: app, encoding: 'utf8' })
    t.equal(r.status, 0, 'runs', { stderr: r.stderr })
    t.same(JSON.parse(r.stdout), {
      topic: 'deepn/cam-1/ack',
      ack: { seq: 7 },
      meta: { seq: 7, capturedAt: '2026-12-02T06:00:00.000Z', tableId: 't', deviceId: 'cam-1', width: 8, height: 8 },
      result: { id: 'r1', status: 'ok', data: { applied: ['delivery'] }, ok: true },
      badId: true,
      refused: 'ERR_PACKAGE_PATH_NOT_EXPORTED',
    })
    // The types: a TypeScript backend (node16 resolution reads `exports`) compiles against the installed package.
    writeFileSync(
      join(app, 'backend.ts'),
      [
        "import { parseConfigResult, type ConfigResult, type FrameMetadata } from 'deepn-edge/contract'",
        'const r: ConfigResult = parseConfigResult(\'{"id":null,"status":"error","error":"x"}\')',
        'const m: FrameMetadata | undefined = undefined',
        "export const shown: string = r.status === 'ok' ? r.data.applied.join() : r.error + String(m)",
      ].join('\n'),
    )
    const tsc = spawnSync(
      process.execPath,
      [
        join(root, 'node_modules/typescript/bin/tsc'),
        '--noEmit',
        '--strict',
        '--module',
        'node16',
        '--moduleResolution',
        'node16',
        '--types',
        'node',
        '--typeRoots',
        join(root, 'node_modules/@types'),
        'backend.ts',
      ],
      { cwd: app, encoding: 'utf8' },
    )
    t.equal(tsc.status, 0, 'tsc finds the types through exports', { output: tsc.stdout + tsc.stderr })
  },
)

/** Runs the installed CLI, returns exit code and stderr. */
function runInstalled(args: string[], cwd = inst): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', timeout: 60000 })
  return { status: r.status, stderr: r.stderr }
}

t.test('backend-only commands name the package to install, in one line', async (t) => {
  const photos = mkdtempSync(join(work, 'photos-'))
  writeFileSync(join(photos, 'a.png'), readFileSync(join(root, 'test/fixtures/images/ladybird-61x47.png')))
  const model = join(inst, 'config/models/fmnist-cnn.onnx')
  const cases: [string, string[], string][] = [
    [
      'tables build',
      ['tables', 'build', '--images', photos, '--id', 'pack-test', '--out', join(photos, 'table.json')],
      'sharp',
    ],
    [
      'tables optimize',
      [
        'tables',
        'optimize',
        '--model',
        model,
        '--calib-size',
        '10',
        '--max-evals',
        '1',
        '--out',
        join(photos, 'opt.json'),
      ],
      'onnxruntime-web',
    ],
    ['eval', ['eval', '--quick', '--model', model, '--out', join(photos, 'eval')], 'onnxruntime-web'],
    ['eval detect', ['eval', 'detect', '--quick', '--out', join(photos, 'detect')], '@tensorflow/tfjs-core'],
  ]
  for (const [name, args, pkg] of cases) {
    const r = runInstalled(args)
    t.not(r.status, 0, `${name} fails`)
    const lines = r.stderr.trim().split('\n')
    t.equal(lines.length, 1, `${name}: one line`, { stderr: r.stderr })
    t.match(
      lines[lines.length - 1],
      new RegExp(`'${pkg}'.*npm install ${pkg}`),
      `${name} names ${pkg} and how to install it`,
    )
    t.notMatch(r.stderr, /Require stack|at Module|node:internal/, `${name}: no stack`)
  }
})

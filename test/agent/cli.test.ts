/**
 * One CLI convention for every command: usage errors exit 2, other failures 1, one line prefixed
 * `deepn <command>: `, no raw parseArgs texts; `deepn --version` and `deepn help <command>`.
 */
import t from 'tap'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runCli } from '../helpers/cli'

const run = runCli

t.test('usage errors: exit 2, one line `deepn <command>: …`, rephrased parser messages', async (t) => {
  const cases: [string[], RegExp][] = [
    [['push-table', '--bogus'], /^deepn push-table: unknown option '--bogus'/],
    [['tables', 'build', '--fmnist', '--scale', '-1'], /^deepn tables: --scale needs a value \(write --scale=-VALUE/],
    [['tables', 'build', '--fmnist', '--scale', '0'], /^deepn tables: --scale must be a positive number/],
    [['tables', 'frob'], /^deepn tables: unknown subcommand 'frob'/],
    [['tables'], /^deepn tables: missing subcommand/],
    [['eval', '--limit'], /^deepn eval: --limit needs a value/],
    [['eval', '--quick=yes'], /^deepn eval: --quick takes no value/],
    [['eval', 'extra'], /^deepn eval: unexpected argument 'extra'/],
    [
      ['calibrate', '--frames', '0'],
      /^deepn calibrate: --frames must be a positive integer, got '0' \(see 'deepn calibrate --help'\)$/,
    ],
    [['calibrate', '--frames', '2.5'], /^deepn calibrate: --frames must be a positive integer, got '2\.5'/],
    [['push-table', '--url', 'mqtt://127.0.0.1:1'], /^deepn push-table: --device is required/],
    [['receive', '--nope'], /^deepn receive: unknown option '--nope'/],
    [['simulate', '--devices', '0'], /^deepn simulate: --devices must be an integer in 1\.\.10000, got '0'/],
    [['simulate', '--size', '640'], /^deepn simulate: --size must be WIDTHxHEIGHT with sides in 1\.\.8192, got '640'/],
    [['run', '--nope'], /^deepn run: unknown option '--nope'/],
    [['demo', '--frames', 'x'], /^deepn demo: --frames must be an integer >= 0, got 'x' \(see 'deepn demo --help'\)$/],
    [['demo', '--port', '70000'], /^deepn demo: --port must be an integer in 0\.\.65535, got '70000'/],
    [['demo', '--frames'], /^deepn demo: --frames needs a value/],
    [['run', '--config'], /^deepn run: --config needs a value \(see 'deepn run --help'\)$/],
    [['run', 'extra'], /^deepn run: unexpected argument 'extra'/],
    [['eval', 'detect', '--every'], /^deepn eval: --every needs a value \(see 'deepn eval detect --help'\)$/],
    [
      ['eval', 'detect', '--every', '0'],
      /^deepn eval: --every must be an integer >= 1, got '0' \(see 'deepn eval detect --help'\)$/,
    ],
    [['eval', 'detect', '--bogus'], /^deepn eval: unknown option '--bogus'/],
    [
      ['eval', '--encoder', 'gimp', '--model', '/nonexistent/m.onnx'],
      /^deepn eval: --encoder must be ours or cjpeg, got 'gimp'/,
    ],
    [
      ['tables', 'build', '--fmnist', '--subsampling', '422'],
      /^deepn tables: --subsampling must be 420 or 444, got '422' \(see 'deepn tables build --help'\)$/,
    ],
    [
      ['tables', 'optimize', '--seed', '1.5'],
      /^deepn tables: --seed must be an integer in -2147483648\.\.4294967295, got '1\.5' \(see 'deepn tables optimize --help'\)$/,
    ],
    [['receive', '--protocol', '4'], /^deepn receive: --protocol must be auto, 5 or 3\.1\.1, got '4'/],
    [
      ['push-table', '--url', 'mqtt://127.0.0.1:1', '--device', 'd', '--table', 't.json', '--timeout', 'soon'],
      /^deepn push-table: --timeout must be a positive number, got 'soon'/,
    ],
    [['encode', 'a.ppm'], /^deepn encode: missing -o/],
    [['frob'], /^deepn: unknown command 'frob'/],
  ]
  for (const [argv, re] of cases) {
    const r = await run(argv)
    t.equal(r.code, 2, `${argv.join(' ')} → exit 2`)
    t.match(r.err, re, argv.join(' '))
    t.equal(r.err.split('\n').length, 1, `${argv.join(' ')}: one line`)
    t.notMatch(r.err, /ambiguous|Did you forget|positional arguments|\n\s+at /, 'no parser internals or stack')
  }
})

t.test('eval checks --out before loading the model or sweeping', async (t) => {
  const r = await run(['eval', '--out', '/dev/null/reports', '--model', '/nonexistent/m.onnx'])
  t.equal(r.code, 2)
  t.match(r.err, /^deepn eval: --out \/dev\/null\/reports: cannot write there \(not a directory\)/)
})

t.test('other failures exit 1 with the same prefix', async (t) => {
  const r = await run(['encode', '/nonexistent/in.ppm', '-o', '/tmp/x.jpg'])
  t.equal(r.code, 1)
  t.match(r.err, /^deepn encode: cannot read input '\/nonexistent\/in\.ppm': no such file$/)
})

t.test('--version, help, help <command>', async (t) => {
  const pkg = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { version: string }
  const v = await run(['--version'])
  t.equal(v.code, 0)
  t.equal(v.out, `deepn ${pkg.version}`)
  const h = await run(['help'])
  t.equal(h.code, 0)
  t.match(h.out, /usage: deepn <command>/)
  for (const [cmd, re] of [
    ['encode', /usage: deepn encode/],
    ['receive', /usage: deepn receive/],
    ['tables', /usage: deepn tables build\|optimize/],
    ['push-table', /usage: deepn push-table/],
    ['simulate', /usage: deepn simulate/],
  ] as const) {
    const r = await run(['help', cmd])
    t.equal(r.code, 0, `help ${cmd}`)
    t.match(r.out, re)
  }
})

t.test('push-table: a bad URL or an unreachable broker in one line, no resolver internals', async (t) => {
  const table = join(__dirname, '../../config/tables/fmnist-deepn.json')
  const base = ['push-table', '--device', 'cam', '--table', table, '--timeout', '3000']
  const scheme = await run([...base, '--url', 'nope://x'])
  t.equal(scheme.code, 2)
  t.match(
    scheme.err,
    /^deepn push-table: --url: unsupported URL scheme 'nope:' in 'nope:\/\/x' \(use mqtt:\/\/, mqtts:\/\/, ws:\/\/ or wss:\/\/\)/,
  )
  const host = await run([...base, '--url', 'mqtt://no-such-host.invalid:1883'])
  t.equal(host.code, 1)
  t.match(
    host.err,
    /^deepn push-table: cannot resolve the broker host 'no-such-host\.invalid' \(mqtt:\/\/no-such-host\.invalid:1883\)$/,
  )
  const refused = await run([...base, '--url', 'mqtt://127.0.0.1:1'])
  t.equal(refused.code, 1)
  t.match(refused.err, /^deepn push-table: broker mqtt:\/\/127\.0\.0\.1:1 refused the connection/)
  for (const r of [scheme, host, refused])
    t.notMatch(r.err, /getaddrinfo|ENOTFOUND|ECONNREFUSED|\n/, 'one line in words')
})

t.test('run: restart-only files are checked at start-up, one line naming the key', async (t) => {
  const dir = t.testdir()
  const cfg = join(dir, 'agent.json')
  writeFileSync(
    cfg,
    JSON.stringify({
      mqtt: { url: 'mqtts://127.0.0.1:1', ca: join(dir, 'missing-ca.pem') },
      buffer: { path: join(dir, 'b.db') },
    }),
  )
  const r = await run(['run', '--config', cfg])
  t.equal(r.code, 2)
  t.match(r.err, /^deepn run: 'mqtt\.ca' .*missing-ca\.pem: no such file or directory$/)
  t.notOk(existsSync(join(dir, 'b.db')), 'nothing opened before the check')
})

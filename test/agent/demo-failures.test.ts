/**
 * `deepn demo` after a fatal error exits non-zero with one line and frees its port, instead of printing the error
 * and keeping the in-process broker listening until Ctrl-C. Each case is bounded: a hang is killed and fails.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { CLI } from '../helpers/agent-process'
import { freePort } from '../helpers/mosquitto'

const ROOT = resolve(__dirname, '../..')

interface Exit {
  code: number | null
  out: string
  hung: boolean
}

function demo(args: string[], opts: { cli?: string; timeoutMs?: number } = {}): Promise<Exit> {
  const cwd = mkdtempSync(join(tmpdir(), 'deepn-demo-fail-'))
  t.teardown(() => rmSync(cwd, { recursive: true, force: true }))
  const env: NodeJS.ProcessEnv = { ...process.env, DEEPN_DEVICE_ID: 'failcam' }
  delete env.DEEPN_MQTT_URL
  const p = spawn(process.execPath, [opts.cli ?? CLI, 'demo', ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  p.stdout.on('data', (d) => {
    out += d
  })
  p.stderr.on('data', (d) => {
    out += d
  })
  let hung = false
  const timer = setTimeout(() => {
    hung = true
    p.kill('SIGKILL')
  }, opts.timeoutMs ?? 20000)
  return new Promise((res) =>
    p.once('exit', (code) => {
      clearTimeout(timer)
      res({ code, out, hung })
    }),
  )
}

function canListen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer()
    srv.once('error', () => res(false))
    srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)))
  })
}

const lastLine = (out: string): string => out.trim().split('\n').pop() ?? ''

t.test('--port in use: exit 1 naming the port, no hang', async (t) => {
  const port = await freePort()
  const busy: Server = createServer()
  await new Promise<void>((r) => busy.listen(port, '127.0.0.1', () => r()))
  t.teardown(() => new Promise<void>((r) => busy.close(() => r())))
  const r = await demo(['--port', String(port), '--frames', '1'])
  t.notOk(r.hung, 'exits by itself')
  t.equal(r.code, 1, r.out)
  t.match(lastLine(r.out), new RegExp(`^deepn demo: cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use`))
})

t.test('--port 70000 is a usage error', async (t) => {
  const r = await demo(['--port', '70000'])
  t.notOk(r.hung, 'exits by itself')
  t.equal(r.code, 2, r.out)
  t.match(lastLine(r.out), /^deepn demo: --port must be an integer in 0\.\.65535, got '70000'/)
})

t.test('--model missing: usage error before anything starts', async (t) => {
  const r = await demo(['--model', '/nonexistent/m.onnx', '--port', '0'])
  t.notOk(r.hung, 'exits by itself')
  t.equal(r.code, 2, r.out)
  t.match(lastLine(r.out), /^deepn demo: --model \/nonexistent\/m\.onnx: no such file/)
})

t.test('--model that does not load: exit 1 and the broker port is free again', async (t) => {
  const dir = t.testdir({ 'text.onnx': 'not a model' })
  const port = await freePort()
  const r = await demo(['--model', join(dir, 'text.onnx'), '--port', String(port)])
  t.notOk(r.hung, 'exits by itself')
  t.equal(r.code, 1, r.out)
  t.match(lastLine(r.out), /^deepn demo: .*text\.onnx/)
  t.ok(await canListen(port), 'port free')
})

t.test('onnxruntime-web absent (an --omit=dev install): exit 1 naming the package', async (t) => {
  // The built package next to a node_modules holding everything but onnxruntime-web, as after npm ci --omit=dev.
  const pkg = mkdtempSync(join(tmpdir(), 'deepn-no-ort-'))
  t.teardown(() => rmSync(pkg, { recursive: true, force: true }))
  cpSync(join(ROOT, 'dist'), join(pkg, 'dist'), { recursive: true }) // a copy: node resolves modules from a symlink's target
  symlinkSync(join(ROOT, 'config'), join(pkg, 'config'))
  writeFileSync(join(pkg, 'package.json'), '{"name":"deepn-edge","version":"0.0.0"}')
  mkdirSync(join(pkg, 'node_modules'))
  for (const m of readdirSync(join(ROOT, 'node_modules'))) {
    if (m !== 'onnxruntime-web' && !m.startsWith('.'))
      symlinkSync(join(ROOT, 'node_modules', m), join(pkg, 'node_modules', m))
  }
  const port = await freePort()
  const r = await demo(['--model', join(ROOT, 'config/models/fmnist-cnn.onnx'), '--port', String(port)], {
    cli: join(pkg, 'dist/agent/cli.js'),
  })
  t.notOk(r.hung, 'exits by itself')
  t.equal(r.code, 1, r.out)
  t.match(lastLine(r.out), /^deepn demo: .*onnxruntime-web/)
  t.ok(await canListen(port), 'port free')
})

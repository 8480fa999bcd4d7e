/**
 * A camera that cannot deliver ends `deepn calibrate` with the camera's error and exit 1 once the retry budget is
 * spent (it used to retry silently forever); a missing capture.filesDir is a start-up error of calibrate and run.
 * Each command runs as a child process, killed (and the test failed) if it does not end by itself.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

// The built CLI, as a user runs it (npm test builds first); compiling through tap's loader is slow under load.
const CLI = resolve(__dirname, '../../dist/agent/cli.js')

function deepn(argv: string[], timeoutMs = 30000): Promise<{ code: number | null; out: string; hung: boolean }> {
  const env = { ...process.env }
  for (const k of Object.keys(env)) if (k.startsWith('DEEPN_')) delete env[k]
  const p = spawn(process.execPath, [CLI, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] })
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
  }, timeoutMs)
  return new Promise((res) =>
    p.once('exit', (code) => {
      clearTimeout(timer)
      res({ code, out, hung })
    }),
  )
}

const lastLine = (out: string): string => out.trim().split('\n').pop() ?? ''

t.test('calibrate: a camera that keeps failing ends the command with its error', async (t) => {
  const dir = t.testdir()
  const empty = join(dir, 'no-images')
  mkdirSync(empty)
  const cfg = join(dir, 'agent.json')
  writeFileSync(cfg, JSON.stringify({ capture: { source: 'files', filesDir: empty, retryMinMs: 10, retryMaxMs: 40 } }))
  const r = await deepn(['calibrate', '--config', cfg, '--frames', '3', '--out', join(dir, 't.json')])
  t.notOk(r.hung, 'ends by itself')
  t.equal(r.code, 1, r.out)
  t.match(
    lastLine(r.out),
    /^deepn calibrate: camera \(files\) failed 5 times in a row, giving up: files: no images .* in .*no-images$/,
  )
  t.match(r.out, /retrying in \d+ ms/, 'the retries were visible while they happened')
})

t.test('calibrate and run: a missing capture.filesDir is a start-up error naming the key', async (t) => {
  const dir = t.testdir()
  const cfg = join(dir, 'agent.json')
  const missing = join(dir, 'does-not-exist')
  writeFileSync(
    cfg,
    JSON.stringify({
      mqtt: { url: 'mqtt://127.0.0.1:1' },
      buffer: { path: join(dir, 'buffer.db') },
      capture: { source: 'files', filesDir: missing },
    }),
  )
  for (const cmd of ['calibrate', 'run']) {
    const r = await deepn([cmd, '--config', cfg], 20000)
    t.notOk(r.hung, `${cmd} ends by itself`)
    t.equal(r.code, 2, `${cmd}: ${r.out}`)
    t.equal(r.out.trim().split('\n').length, 1, `${cmd}: one line`)
    t.match(r.out.trim(), new RegExp(`^deepn ${cmd}: 'capture\\.filesDir' .*does-not-exist: no such file or directory`))
  }
})

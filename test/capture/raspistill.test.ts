import t from 'tap'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSource, CameraToolMissingError, RetryingSource } from '../../agent/capture'
import { childPids, expectedRgb, FAKE_BIN, memoryLog, processGone, sameBytes, useFakeCameras } from './helpers'

useFakeCameras()
const dir = mkdtempSync(join(tmpdir(), 'deepn-raspistill-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
/** Per-test env for the fake camera (the child inherits process.env). */
function fakeEnv(vars: Record<string, string>): () => void {
  const keys = ['FAKE_CAMERA_MODE', 'FAKE_CAMERA_FAIL_FIRST', 'FAKE_CAMERA_STATE', 'FAKE_CAMERA_ARGS_LOG']
  for (const k of keys) delete process.env[k]
  Object.assign(process.env, vars)
  return () => {
    for (const k of keys) delete process.env[k]
  }
}
const stateFile = (): string => join(dir, `state-${n++}`)

// Odd width: the BMP rows carry padding bytes that must not become pixels.
const W = 99
const H = 50

t.test('raspistill via node-raspistill: BMP over stdout, decoded exactly', async (t) => {
  const argsLog = stateFile()
  t.teardown(fakeEnv({ FAKE_CAMERA_ARGS_LOG: argsLog }))
  const src = createSource({ source: 'raspistill', width: W, height: H, warmupMs: 200, retry: false })
  const img = await src.capture()
  t.same([img.width, img.height, img.format], [W, H, 'rgb'])
  t.ok(sameBytes(img.data, expectedRgb(W, H)), 'every pixel equals the pattern')
  const call = JSON.parse(readFileSync(argsLog, 'utf8').trim())
  t.same(
    call.args,
    ['-n', '-e', 'bmp', '-w', String(W), '-h', String(H), '-t', '200', '-o', '-'],
    'uncompressed BMP to stdout, no preview',
  )
  await src.close()
})

t.test('a big frame arrives whole (stdout drained before the exit is acted on)', async (t) => {
  t.teardown(fakeEnv({}))
  const src = createSource({ source: 'raspistill', width: 1920, height: 1080, warmupMs: 1, retry: false })
  for (let i = 0; i < 3; i++) {
    const img = await src.capture()
    t.ok(sameBytes(img.data, expectedRgb(1920, 1080)), `1080p frame ${i} complete`)
  }
  await src.close()
})

t.test('harmless stderr chatter is not a failure', async (t) => {
  t.teardown(fakeEnv({ FAKE_CAMERA_MODE: 'stderr-noise' }))
  const src = createSource({ source: 'raspistill', width: 8, height: 8, retry: false })
  t.equal((await src.capture()).width, 8)
})

t.test('failures are descriptive errors, never half frames', async (t) => {
  const cases: [string, RegExp][] = [
    ['exit1', /^raspistill exited with code 1: raspistill: ERROR: \*\*\* no cameras available \*\*\*/],
    ['garbage', /^BMP \(raspistill output\): not a BMP file/],
    ['truncated', /^BMP \(raspistill output\): truncated pixel data/],
  ]
  for (const [mode, re] of cases) {
    const restore = fakeEnv({ FAKE_CAMERA_MODE: mode })
    const src = createSource({ source: 'raspistill', width: W, height: H, retry: false })
    await t.rejects(src.capture(), re, mode)
    restore()
  }
})

t.test('a hung camera is killed at the timeout, grandchildren included', async (t) => {
  for (const mode of ['hang', 'hang-hard']) {
    const state = stateFile()
    const restore = fakeEnv({ FAKE_CAMERA_MODE: mode, FAKE_CAMERA_STATE: state })
    const src = createSource({ source: 'raspistill', width: W, height: H, timeoutMs: 2500, retry: false })
    await t.rejects(src.capture(), /^raspistill timed out after 2500 ms \(killed\)/, mode)
    const grandchild = Number(readFileSync(state, 'utf8'))
    t.ok(grandchild > 0 && processGone(grandchild), `${mode}: the grandchild sleep ${grandchild} is gone`)
    restore()
  }
  t.same(
    childPids().filter((c) => c.comm !== 'ps'),
    [],
    'no child processes left, no zombies',
  )
})

t.test('abort kills the capture', async (t) => {
  t.teardown(fakeEnv({ FAKE_CAMERA_MODE: 'hang' }))
  const src = createSource({ source: 'raspistill', width: W, height: H, timeoutMs: 60000, retry: false })
  const ac = new AbortController()
  setTimeout(() => ac.abort(), 1000)
  await t.rejects(src.capture(ac.signal), { name: 'AbortError' })
})

t.test('close() during a capture: the capture rejects, close resolves once the process is reaped', async (t) => {
  t.teardown(fakeEnv({ FAKE_CAMERA_MODE: 'hang-hard' }))
  const src = createSource({ source: 'raspistill', width: W, height: H, timeoutMs: 60000, retry: false })
  const pending = src.capture()
  await new Promise((r) => setTimeout(r, 1000))
  t.equal(childPids().length, 1, 'the camera process is running')
  await src.close()
  await t.rejects(pending, { name: 'AbortError' })
  t.same(childPids(), [], 'gone (SIGKILL after the ignored SIGTERM) by the time close() resolved')
  await t.rejects(src.capture(), { name: 'AbortError' }, 'a closed source captures nothing')
})

t.test('RetryingSource: logged errors, backoff, then a whole frame', async (t) => {
  t.teardown(fakeEnv({ FAKE_CAMERA_FAIL_FIRST: '2', FAKE_CAMERA_STATE: stateFile() }))
  const { lines, log } = memoryLog()
  const errors: string[] = []
  const src = createSource({
    source: 'raspistill',
    width: W,
    height: H,
    log,
    retry: { minMs: 50, maxMs: 200 },
    onError: (e) => errors.push(e.message),
  })
  t.ok(src instanceof RetryingSource)
  const img = await src.capture()
  t.ok(sameBytes(img.data, expectedRgb(W, H)), 'third run delivered the frame')
  t.equal(errors.length, 2)
  const warns = lines.filter((l) => l.startsWith('warn'))
  t.equal(warns.length, 2, 'each failure logged')
  t.match(warns[0], /raspistill: capture failed \(1 in a row\), retrying in \d+ ms: raspistill exited with code 1/)
  t.match(lines.at(-1), /recovered after 2 failure/)
  t.equal((src as RetryingSource).consecutiveFailures, 0)
})

t.test('missing raspistill: the Bookworm hint', async (t) => {
  const saved = process.env.PATH
  t.teardown(() => {
    process.env.PATH = saved
  })
  process.env.PATH = saved!
    .split(':')
    .filter((d) => d !== FAKE_BIN)
    .join(':')
  const err = t.throws(
    () => createSource({ source: 'raspistill', width: 64, height: 64 }),
    /^raspistill not found: it is gone from Raspberry Pi OS Bookworm \(legacy camera stack\); use source rpicam/,
  )
  t.ok(err instanceof CameraToolMissingError)
})

import t from 'tap'
import { readFileSync, mkdtempSync, rmSync, mkdirSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSource, CameraToolMissingError, detectCameraTools } from '../../agent/capture'
import { validateSection } from '../../shared/config'
import { childPids, expectedI420, FAKE_BIN, memoryLog, processGone, sameBytes, useFakeCameras } from './helpers'

useFakeCameras()
const dir = mkdtempSync(join(tmpdir(), 'deepn-rpicam-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
const stateFile = (): string => join(dir, `state-${n++}`)
const KEYS = [
  'FAKE_CAMERA_MODE',
  'FAKE_CAMERA_STATE',
  'FAKE_CAMERA_ARGS_LOG',
  'FAKE_CAMERA_STRIDE',
  'FAKE_CAMERA_STRIDE_ALIGN',
  'FAKE_CAMERA_FRAMES',
  'FAKE_CAMERA_TRAILING',
  'FAKE_CAMERA_NO_SIZE_LOG',
  'FAKE_CAMERA_GROW_AT',
  'FAKE_CAMERA_FAIL_AFTER',
]
function fakeEnv(vars: Record<string, string>): () => void {
  for (const k of KEYS) delete process.env[k]
  Object.assign(process.env, vars)
  return () => {
    for (const k of KEYS) delete process.env[k]
  }
}

/** Frame number k of a yuv420p frame from the fake rpicam-vid, or -1 if it is not exactly one of its frames. */
function frameNumber(data: Uint8Array, w: number, h: number): number {
  for (let k = 1; k < 2000; k++) {
    if (data[0] === ((7 * k) & 255) && sameBytes(data, expectedI420(w, h, k))) return k
  }
  return -1
}

t.test('detectCameraTools sees the fakes on PATH', async (t) => {
  const found = detectCameraTools()
  t.equal(found['rpicam-still'], join(FAKE_BIN, 'rpicam-still'))
  t.equal(found['rpicam-vid'], join(FAKE_BIN, 'rpicam-vid'))
  t.equal(found.raspistill, join(FAKE_BIN, 'raspistill'))
  t.equal(found['libcamera-still'], null)
})

t.test('rpicam-still: raw I420 over stdout, command line as rpicam-apps documents it', async (t) => {
  const argsLog = stateFile()
  t.teardown(fakeEnv({ FAKE_CAMERA_ARGS_LOG: argsLog }))
  const src = createSource({
    source: 'rpicam',
    rpicam: { mode: 'still' },
    width: 100,
    height: 50,
    warmupMs: 300,
    retry: false,
  })
  const img = await src.capture()
  t.same([img.width, img.height, img.format], [100, 50, 'yuv420p'])
  t.ok(sameBytes(img.data, expectedI420(100, 50, 0)), 'planes exact')
  t.same(JSON.parse(readFileSync(argsLog, 'utf8')).args, [
    '-n',
    '-t',
    '300',
    '--encoding',
    'yuv420',
    '--width',
    '100',
    '--height',
    '50',
    '-o',
    '-',
  ])
  await src.close()
})

t.test('rpicam-still with padded rows: stride derived from the size and stripped', async (t) => {
  t.teardown(fakeEnv({ FAKE_CAMERA_STRIDE: '128' }))
  const src = createSource({ source: 'rpicam', rpicam: { mode: 'still' }, width: 100, height: 50, retry: false })
  const img = await src.capture()
  t.equal(img.data.length, 100 * 50 * 1.5)
  t.ok(sameBytes(img.data, expectedI420(100, 50, 0)), 'padding (0xEE) stripped, pixels exact')
})

t.test('rpicam-still failures', async (t) => {
  const cases: [string, RegExp][] = [
    ['exit1', /^rpicam-still exited with code 1: rpicam-still: ERROR: \*\*\* no cameras available/],
    ['garbage', /^rpicam-still wrote 1000 bytes: not an I420 frame of 100x50 \(expected 7500 packed/],
    ['truncated', /^rpicam-still wrote 7400 bytes: not an I420 frame of 100x50.*truncated or garbage/],
  ]
  for (const [mode, re] of cases) {
    const restore = fakeEnv({ FAKE_CAMERA_MODE: mode })
    const src = createSource({ source: 'rpicam', rpicam: { mode: 'still' }, width: 100, height: 50, retry: false })
    await t.rejects(src.capture(), re, mode)
    restore()
  }
  const state = stateFile()
  const restore = fakeEnv({ FAKE_CAMERA_MODE: 'hang-hard', FAKE_CAMERA_STATE: state })
  const src = createSource({ source: 'rpicam', width: 100, height: 50, timeoutMs: 2500, retry: false })
  await t.rejects(src.capture(), /^rpicam-still timed out after 2500 ms \(killed\)/)
  t.ok(processGone(Number(readFileSync(state, 'utf8'))), 'grandchild gone')
  restore()
})

t.test('rpicam-vid: stream of padded frames, stride from the verbose size line, newest frame each time', async (t) => {
  const argsLog = stateFile()
  t.teardown(fakeEnv({ FAKE_CAMERA_ARGS_LOG: argsLog }))
  const { lines, log } = memoryLog()
  const w = 98,
    h = 30 // stride 128: 30 bytes of padding per Y row, 15 per chroma row
  const src = createSource({
    source: 'rpicam',
    rpicam: { mode: 'vid', framerate: 50 },
    width: w,
    height: h,
    log,
    retry: false,
  })
  const seen: number[] = []
  for (let i = 0; i < 4; i++) {
    const img = await src.capture()
    t.same([img.width, img.height, img.format, img.data.length], [w, h, 'yuv420p', w * h + 2 * 49 * 15])
    const k = frameNumber(img.data, w, h)
    t.ok(k > 0, `capture ${i} is exactly frame ${k} of the stream (padding stripped)`)
    seen.push(k)
    if (i === 1) await new Promise((r) => setTimeout(r, 300)) // frames keep arriving meanwhile
  }
  t.ok(
    seen.every((k, i) => i === 0 || k > seen[i - 1]),
    `never the same frame twice: ${seen}`,
  )
  t.ok(seen[2] - seen[1] >= 5, `after a pause the newest frame is handed out, not a stale one: ${seen}`)
  const runs = readFileSync(argsLog, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).args)
  t.equal(runs.length, 1, 'one long-running process')
  t.same(runs[0], [
    '-n',
    '-t',
    '0',
    '--codec',
    'yuv420',
    '--width',
    '98',
    '--height',
    '30',
    '--framerate',
    '50',
    '--flush',
    '-o',
    '-',
    '--verbose',
  ])
  t.match(lines.join('\n'), /stride 128, 5760 bytes per frame/)
  await src.close()
  t.same(childPids(), [], 'rpicam-vid stopped by close()')
})

t.test('rpicam-vid: explicit stride (no verbose needed), other alignments, trailing buffer slack', async (t) => {
  let restore = fakeEnv({ FAKE_CAMERA_STRIDE_ALIGN: '32' })
  let src = createSource({
    source: 'rpicam',
    rpicam: { mode: 'vid', framerate: 50, stride: 128 },
    width: 100,
    height: 50,
    retry: false,
  })
  t.ok(frameNumber((await src.capture()).data, 100, 50) > 0, 'stride 128 given explicitly')
  await src.close()
  restore()

  restore = fakeEnv({ FAKE_CAMERA_TRAILING: '512' })
  src = createSource({ source: 'rpicam', rpicam: { mode: 'vid', framerate: 50 }, width: 100, height: 50, retry: false })
  const a = frameNumber((await src.capture()).data, 100, 50)
  const b = frameNumber((await src.capture()).data, 100, 50)
  t.ok(a > 0 && b > a, `buffers with 512 trailing bytes stay in step: ${a}, ${b}`)
  await src.close()
  restore()
})

t.test('rpicam-vid failures: exit, garbage, truncated, hang — then a restart works', async (t) => {
  let restore = fakeEnv({ FAKE_CAMERA_MODE: 'exit1' })
  let src = createSource({ source: 'rpicam', rpicam: { mode: 'vid' }, width: 64, height: 32, retry: false })
  await t.rejects(src.capture(), /^rpicam-vid exited with code 1: rpicam-vid: ERROR/)
  restore()

  restore = fakeEnv({ FAKE_CAMERA_MODE: 'garbage' })
  await t.rejects(
    src.capture(),
    /^rpicam-vid writes frames of 12345 bytes, which is no I420 layout of 64x32; garbage output/,
  )
  await src.close()
  restore()

  restore = fakeEnv({ FAKE_CAMERA_MODE: 'truncated' })
  src = createSource({ source: 'rpicam', rpicam: { mode: 'vid', framerate: 20 }, width: 64, height: 32, retry: false })
  t.equal(frameNumber((await src.capture()).data, 64, 32), 1, 'the whole first frame')
  await t.rejects(src.capture(), /^rpicam-vid exited with code 0.*; last frame truncated \(1536 of 3072 bytes\)/)
  restore()

  // An error after a stream of verbose per-frame lines is what the message shows.
  restore = fakeEnv({ FAKE_CAMERA_FRAMES: '30', FAKE_CAMERA_FAIL_AFTER: '1' })
  let failed: unknown
  for (let i = 0; i < 40 && !failed; i++)
    failed = await src.capture().then(
      () => undefined,
      (e: unknown) => e,
    )
  t.match(failed, { message: /^rpicam-vid exited with code 1: .*ERROR: \*\*\* Device timeout detected \*\*\*$/ })
  t.notMatch(
    (failed as Error).message,
    /Viewfinder frame|output buffer/,
    'verbose per-frame lines kept out of the message',
  )
  restore()

  // The same source object restarts the process on the next capture.
  restore = fakeEnv({})
  t.ok(frameNumber((await src.capture()).data, 64, 32) > 0, 'restarted stream delivers')
  await src.close()
  restore()

  const state = stateFile()
  restore = fakeEnv({ FAKE_CAMERA_MODE: 'hang-hard', FAKE_CAMERA_STATE: state })
  src = createSource({
    source: 'rpicam',
    rpicam: { mode: 'vid' },
    width: 64,
    height: 32,
    timeoutMs: 2500,
    retry: false,
  })
  await t.rejects(
    src.capture(),
    /^rpicam-vid: no frame within 2500 ms \(process killed, restarts on the next capture\)/,
  )
  restore()
  await src.close()
  t.ok(processGone(Number(readFileSync(state, 'utf8'))), 'hung process group killed')
  t.same(childPids(), [], 'no child processes or zombies left')
})

t.test('rpicam-vid: no size reported, or a size change mid-stream, is an error rather than torn frames', async (t) => {
  let restore = fakeEnv({ FAKE_CAMERA_NO_SIZE_LOG: '1' })
  let src = createSource({
    source: 'rpicam',
    rpicam: { mode: 'vid', framerate: 50 },
    width: 64,
    height: 32,
    timeoutMs: 20000,
    retry: false,
  })
  await t.rejects(
    src.capture(),
    /^rpicam-vid wrote \d+ bytes without reporting its frame size; set capture rpicam\.stride/,
  )
  await src.close()
  restore()

  restore = fakeEnv({ FAKE_CAMERA_GROW_AT: '4' })
  src = createSource({ source: 'rpicam', rpicam: { mode: 'vid', framerate: 5 }, width: 64, height: 32, retry: false })
  const k1 = frameNumber((await src.capture()).data, 64, 32)
  t.ok(k1 >= 1 && k1 <= 3, `a good frame before the change (${k1})`)
  let err: unknown
  for (let i = 0; i < 8 && !err; i++)
    err = await src.capture().then(
      () => undefined,
      (e: unknown) => e,
    )
  t.match(err, { message: /^rpicam-vid frame size changed from 3072 to 3136 bytes mid-stream/ })
  await src.close()
  restore()
})

t.test('rpicam-vid: abort one capture, close wakes a waiting one', async (t) => {
  t.teardown(fakeEnv({ FAKE_CAMERA_MODE: 'hang' }))
  const src = createSource({
    source: 'rpicam',
    rpicam: { mode: 'vid' },
    width: 64,
    height: 32,
    timeoutMs: 60000,
    retry: false,
  })
  const ac = new AbortController()
  setTimeout(() => ac.abort(), 200)
  await t.rejects(src.capture(ac.signal), { name: 'AbortError' })
  const pending = src.capture()
  setTimeout(() => {
    void src.close()
  }, 200)
  await t.rejects(pending, /source closed/)
  await src.close()
})

t.test('missing rpicam tools: clear message', async (t) => {
  const saved = process.env.PATH
  t.teardown(() => {
    process.env.PATH = saved
  })
  process.env.PATH = saved!
    .split(':')
    .filter((d) => d !== FAKE_BIN)
    .join(':')
  const err = t.throws(
    () => createSource({ source: 'rpicam', width: 64, height: 64 }),
    /^rpicam-still not found \(nor libcamera-still\): install rpicam-apps/,
  )
  t.ok(err instanceof CameraToolMissingError)
  t.throws(
    () => createSource({ source: 'rpicam', rpicam: { mode: 'vid' }, width: 64, height: 64 }),
    /^rpicam-vid not found \(nor libcamera-vid\)/,
  )
})

t.test('Bullseye: libcamera-still / libcamera-vid are used when rpicam-* are absent', async (t) => {
  const legacy = join(dir, 'legacy-bin')
  mkdirSync(legacy)
  symlinkSync(join(FAKE_BIN, 'rpicam-still'), join(legacy, 'libcamera-still'))
  symlinkSync(join(FAKE_BIN, 'rpicam-vid'), join(legacy, 'libcamera-vid'))
  const saved = process.env.PATH
  const argsLog = stateFile()
  const restore = fakeEnv({ FAKE_CAMERA_ARGS_LOG: argsLog })
  t.teardown(() => {
    process.env.PATH = saved
    restore()
  })
  process.env.PATH = [legacy, ...saved!.split(':').filter((d) => d !== FAKE_BIN)].join(':')
  const tools = detectCameraTools()
  t.same([tools['rpicam-still'], tools['libcamera-still'] !== null], [null, true])
  const still = createSource({ source: 'rpicam', width: 64, height: 32, retry: false })
  t.ok(sameBytes((await still.capture()).data, expectedI420(64, 32, 0)))
  const vid = createSource({
    source: 'rpicam',
    rpicam: { mode: 'vid', framerate: 20 },
    width: 64,
    height: 32,
    retry: false,
  })
  t.ok(frameNumber((await vid.capture()).data, 64, 32) > 0, 'libcamera-vid stream frame')
  await vid.close()
  t.same(
    readFileSync(argsLog, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).as),
    ['libcamera-still', 'libcamera-vid'],
  )
})

t.test('bad capture settings are refused by the schema (the one validation), naming the key', async (t) => {
  const capture = (doc: object): unknown => validateSection('capture', doc)
  t.throws(
    () => capture({ source: 'rpicam', width: 101, height: 50 }),
    /'capture\.width'\/'capture\.height' must be even for the rpicam source \(I420\), got 101x50/,
  )
  t.throws(
    () => capture({ source: 'rpicam', rpicamMode: 'vid', rpicamStride: 90, width: 100, height: 50 }),
    /'capture\.rpicamStride' must be 0 \(found by itself\) or an even number >= 'capture\.width' \(100\) for the rpicam source, got 90/,
  )
  t.throws(
    () => capture({ source: 'rpicam', rpicamStride: 101, width: 100, height: 50 }),
    /'capture\.rpicamStride' must be 0/,
    'an odd stride',
  )
  t.throws(
    () => capture({ source: 'webcam' }),
    /'capture\.source' must be one of 'synthetic', 'files', 'raspistill', 'rpicam', got string 'webcam'/,
  )
  t.throws(() => capture({ width: 0 }), /'capture\.width' must be >= 16, got 0/)
  t.throws(() => capture({ width: 16384 }), /'capture\.width' must be <= 8192, got 16384/, "one limit: the schema's")
  t.throws(() => capture({ rpicamFramerate: 240 }), /'capture\.rpicamFramerate' must be <= 120, got 240/)
  t.throws(() => capture({ timeoutMs: 0 }), /'capture\.timeoutMs' must be >= 100/)
  const ok = validateSection('capture', { source: 'rpicam', rpicamStride: 128, width: 100, height: 50 })
  t.match(
    ok,
    { source: 'rpicam', rpicamStride: 128, width: 100, height: 50, rpicamMode: 'still', warmupMs: 1000 },
    'the section over the defaults',
  )
})

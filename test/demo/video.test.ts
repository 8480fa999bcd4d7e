/**
 * `deepn demo --video --detector coco-ssd`, end to end as a user runs it: vtest.avi through ffmpeg, the real agent
 * (files source) over the demo's in-process broker, the receiver, COCO-SSD on TF.js wasm, the table search and the
 * one config/set push. A second MQTT client listens on the demo's broker to check what went over the wire; the
 * numbers the demo prints are checked against the frames the receiver stored.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { parseConfigResult, parseConfigSet } from '../../shared/contract/config-messages'
import { readFrameMetadata } from '../../shared/contract/frame-metadata'
import { parseDetectionResult, type DetectionResultMessage } from '../../shared/contract/results'
import { tiltTableFile } from '../../shared/deepn/tilt-table'
import { CLI } from '../helpers/agent-process'

interface Run {
  code: number | null
  out: string
  cwd: string
}

function demo(args: string[], onOut?: (out: string) => void, timeoutMs = 90000): Promise<Run> {
  const cwd = mkdtempSync(join(tmpdir(), 'deepn-demo-video-'))
  t.teardown(() => rmSync(cwd, { recursive: true, force: true }))
  const env: NodeJS.ProcessEnv = { ...process.env, DEEPN_DEVICE_ID: 'vidcam' }
  delete env.DEEPN_MQTT_URL
  const p = spawn(process.execPath, [CLI, 'demo', ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const add = (d: Buffer) => {
    out += d
    onOut?.(out)
  }
  p.stdout.on('data', add)
  p.stderr.on('data', add)
  const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs)
  return new Promise((res) =>
    p.once('exit', (code) => {
      clearTimeout(timer)
      res({ code, out, cwd })
    }),
  )
}

t.test('the loop: frames through the agent, detections, one push, before/after from the stored frames', async (t) => {
  const results: DetectionResultMessage[] = []
  const sets: unknown[] = []
  const answers: ReturnType<typeof parseConfigResult>[] = []
  let listener: mqtt.MqttClient | undefined
  let subscribed: Promise<unknown> | undefined
  const t0 = Date.now()
  const run = await demo(
    '--video --frames 12 --every 8 --learn 2 --interval-ms 1500 --scales 1.5 --port 0'.split(' '),
    (out) => {
      const port = /in-process broker at mqtt:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1]
      if (!port || listener) return
      listener = mqtt.connect(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, reconnectPeriod: 0 })
      listener.on('error', () => undefined) // the demo's broker closes under it at the end
      listener.on('message', (topic, payload) => {
        if (topic === 'deepn/vidcam/results') results.push(parseDetectionResult(payload))
        else if (topic === 'deepn/vidcam/config/set') sets.push(parseConfigSet(payload, 1 << 20).config)
        else if (topic === 'deepn/vidcam/config/result') answers.push(parseConfigResult(payload))
      })
      subscribed = listener.subscribeAsync(
        ['deepn/vidcam/results', 'deepn/vidcam/config/set', 'deepn/vidcam/config/result'],
        { qos: 1 },
      )
    },
  )
  listener?.end(true)
  t.comment(`the demo took ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  t.equal(run.code, 0, run.out)
  t.ok(subscribed, 'the demo printed its broker address')
  await subscribed

  // Every stored frame, read back independently: seq, size, the table its metadata names.
  const dir = join(run.cwd, 'data/video-received/vidcam')
  const stored = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.jpg'))
    .map((f) => {
      const bytes = readFileSync(join(dir, f))
      const meta = readFrameMetadata(bytes)!
      return { seq: meta.seq, bytes: bytes.length, tableId: meta.tableId, keepMap: meta.keepMap }
    })
    .sort((a, b) => a.seq - b.seq)
  t.same(
    stored.map((f) => f.seq),
    Array.from({ length: 12 }, (_, i) => i + 1),
    'twelve frames stored',
  )

  // One line per frame, and it says what the stored file says.
  const lines = [
    ...run.out.matchAll(/seq (\d+) \(frame (\d+)\): (\d+) B, table (\S+)(?: \+ map (\S+))?; (\d+) objects/g),
  ]
  t.equal(lines.length, 12, 'a line per frame')
  for (const m of lines) {
    const f = stored.find((s) => s.seq === Number(m[1]))!
    t.equal(Number(m[2]), (f.seq - 1) * 8, `seq ${f.seq} is video frame ${(f.seq - 1) * 8}`)
    t.equal(Number(m[3]), f.bytes, `seq ${f.seq}: bytes of the stored file`)
    t.equal(m[4], f.tableId, `seq ${f.seq}: table of the stored file`)
    t.equal(m[5], f.keepMap, `seq ${f.seq}: keep map of the stored file`)
  }

  // The push: one config/set carrying table, its selection, optimal Huffman and the learned map.
  const table = /table (\S+) searched on 2 originals/.exec(run.out)?.[1]
  t.equal(table, 'vtest-ssd', 'the table is searched on the learning frames')
  const first = sets[0] as { encoder: Record<string, unknown> }
  t.ok(first, 'the push went over MQTT')
  const enc = first.encoder
  t.same(Object.keys(enc).sort(), ['keepMap', 'optimizeHuffman', 'table', 'tables'])
  t.equal(enc.table, 'vtest-ssd')
  t.equal(enc.optimizeHuffman, true)
  const pushed = (enc.tables as Record<string, { luma: number[]; chroma: number[] }>)['vtest-ssd']
  t.equal(pushed.luma.length, 64)
  t.equal(pushed.chroma.length, 64)
  const map = enc.keepMap as { id: string; cols: number; rows: number; levels: string; keep: number[] }
  t.match(map, { id: 'vtest-ssd-map', cols: 48, rows: 36 }, '16-pixel cells of 768x576')
  t.match(map.levels, new RegExp(`^[0-9]{${48 * 36}}$`), 'a digit per cell')
  t.same(map.keep, [3, 10, 64], 'by default the keep levels the benchmark search chose')
  t.ok(/[1-9]/.test(map.levels), 'cells where objects were are raised')
  // The agent's answer is printed, whichever it is; a refused keepMap is retried without it.
  const printed = [...run.out.matchAll(/config\/result (\S+): (applied .*|refused: .*)/g)]
  t.ok(printed.length >= 1, 'the answer is printed')
  if (/refused: .*keepMap/.test(printed[0][2])) {
    t.match(run.out, /the agent refused encoder\.keepMap; pushing the table alone/)
    t.equal(sets.length, 2, 'one retry')
    t.notOk('keepMap' in (sets[1] as { encoder: object }).encoder, 'the retry leaves the map out')
  } else {
    t.equal(sets.length, 1, 'one request')
    const after = stored.filter((f) => f.tableId === 'vtest-ssd')
    t.ok(
      after.every((f) => f.keepMap === 'vtest-ssd-map'),
      'frames after the push name the map in their metadata',
    )
  }
  const last = answers.at(-1)
  t.equal(last?.status, 'ok', 'the table push is applied')
  if (last?.status === 'ok') t.ok(last.data.applied.includes('encoder.table'), last.data.applied.join(', '))
  t.match(printed.at(-1)![2], /^applied .*encoder\.table/)

  // Before the push the configured table, after it the pushed one; frames switch once.
  const tables = stored.map((f) => f.tableId)
  const switchAt = tables.indexOf('vtest-ssd')
  t.comment(`the push took effect at seq ${switchAt + 1}`)
  t.ok(switchAt >= 2, `the first ${switchAt} frames (at least the 2 learned from) use the old table`)
  t.ok(switchAt < 12, 'some frames after the push')
  t.ok(tables.slice(switchAt).every((id) => id === 'vtest-ssd'))
  t.ok(tables.slice(0, switchAt).every((id) => id === 'natural-deepn'))

  // Detection results: one per frame, as the demo printed its counts.
  t.ok(results.length >= 10, `${results.length} detection results heard (the listener joins after the first frame)`)
  for (const r of results) {
    const m = lines.find((l) => Number(l[1]) === r.seq)!
    t.equal(r.detections.length, Number(m[6]), `seq ${r.seq}: objects as printed`)
    t.equal(r.tableId, stored[r.seq - 1].tableId)
    t.equal(r.model, 'coco-ssd')
  }

  // The summary: frames and mean bytes as the stored files give them, F1 from its own counts.
  const mean = (xs: { bytes: number }[]) => Math.round(xs.reduce((s, x) => s + x.bytes, 0) / xs.length)
  const group = (name: string) => {
    const m = new RegExp(
      `${name} +(\\d+) frames +(\\d+) B/frame +F1 ([\\d.]+) \\(tp (\\d+), fp (\\d+), fn (\\d+); (\\d+) objects`,
    ).exec(run.out)
    t.ok(m, `a '${name}' line`)
    return m!.slice(1).map(Number)
  }
  const [nb, bytesBefore, f1Before, tp, fp, fn, objects] = group('before')
  const [na, bytesAfter] = group('after')
  t.equal(nb, switchAt)
  t.notOk(readdirSync(join(run.cwd, 'data')).includes('video-frames'), 'the PPM frames are removed at the end')
  t.equal(na, 12 - switchAt)
  t.equal(bytesBefore, mean(stored.slice(0, switchAt)))
  t.equal(bytesAfter, mean(stored.slice(switchAt)))
  t.equal(f1Before, Number(((2 * tp) / (2 * tp + fp + fn)).toFixed(3)))
  t.equal(objects, tp + fn, 'every object of the originals is found or missed')
  t.ok(bytesAfter < bytesBefore, `the tuned table sends fewer bytes (${bytesAfter} vs ${bytesBefore})`)
  const ratio = /after\/before: ([\d.]+)x the bytes/.exec(run.out)
  t.ok(ratio, 'the ratio is printed')
  t.equal(Number(ratio![1]), Number((bytesAfter / bytesBefore).toFixed(3)))
})

t.test('--no-search --table FILE pushes that table, and frames switch to it', async (t) => {
  const file = join(t.testdir(), 'cam-ssd.json')
  const table = tiltTableFile('cam-ssd', { tilt: 1, chroma: 0.5, scale: 2 })
  writeFileSync(file, JSON.stringify(table))
  const run = await demo(
    `--video --frames 6 --every 10 --learn 2 --interval-ms 1500 --no-search --table ${file} --port 0`.split(' '),
  )
  t.equal(run.code, 0, run.out)
  t.ok(run.out.includes(`table cam-ssd from ${file}`), 'the table file is named')
  t.notMatch(run.out, /search \(/, 'no search ran')
  const dir = join(run.cwd, 'data/video-received/vidcam')
  const ids = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.jpg'))
    .map((f) => readFrameMetadata(readFileSync(join(dir, f)))!)
    .sort((a, b) => a.seq - b.seq)
    .map((m) => m.tableId)
  t.equal(ids.length, 6)
  t.equal(ids[0], 'natural-deepn')
  t.equal(ids.at(-1), 'cam-ssd', 'the last frames use the pushed table')
  t.match(run.out, /after +\d+ frames .* tables cam-ssd/)
})

t.test('bad options are usage errors before anything starts', async (t) => {
  for (const [args, re] of [
    [['--video', '--detector', 'yolo'], /--detector must be coco-ssd, centernet or nanodet, got 'yolo'/],
    [['--detector', 'coco-ssd', '--frames', '5', '--learn', '5'], /--learn 5 leaves no frame after the push/],
    [['--video', '/nonexistent/clip.avi'], /--video \/nonexistent\/clip\.avi: no such file/],
    [['--video', '--table', 'x.json'], /--table is pushed instead of a search: give --no-search too/],
    [['--video', '--no-search', '--table', '/nonexistent/t.json'], /--table \/nonexistent\/t\.json: no such file/],
    [['--video', '--frames', '200', '--every', '5', '--port', '0'], /needs 996 frames; vtest\.avi has 795/],
  ] as const) {
    const r = await demo([...args], undefined, 30000)
    t.equal(r.code, 2, `${args.join(' ')}: ${r.out}`)
    t.match(r.out.trim().split('\n').pop()!, re)
  }
})

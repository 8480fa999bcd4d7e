import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PNG } from 'pngjs'
import { imageFolderSource, splitFrames, videoSource, VTEST_AVI, type Frame } from '../../scripts/eval/video-frames'

async function collect(it: AsyncIterable<Frame>): Promise<Frame[]> {
  const out: Frame[] = []
  for await (const f of it) out.push(f)
  return out
}

t.test('vtest.avi: probed size and count, frames by index match a direct ffmpeg extraction', async (t) => {
  const src = videoSource(VTEST_AVI)
  t.same([src.width, src.height, src.count], [768, 576, 795])
  const frames = await collect(src.frames([0, 3, 40]))
  t.same(
    frames.map((f) => f.index),
    [0, 3, 40],
  )
  for (const f of frames)
    t.same([f.image.width, f.image.height, f.image.format, f.image.data.length], [768, 576, 'rgb', 768 * 576 * 3])
  // an independent extraction of frame 40 by ffmpeg's own frame selection: same bytes, so no frame is skipped or shifted
  const direct = execFileSync(
    'ffmpeg',
    [
      '-v',
      'error',
      '-nostdin',
      '-i',
      VTEST_AVI,
      '-vf',
      'select=eq(n\\,40)',
      '-frames:v',
      '1',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-',
    ],
    { maxBuffer: 1 << 24 },
  )
  t.ok(Buffer.from(frames[2].image.data).equals(direct), 'frame 40 is byte-identical to ffmpeg select=eq(n,40)')
  t.notOk(Buffer.from(frames[0].image.data).equals(Buffer.from(frames[1].image.data)), 'frames differ over time')
})

/** This process's ffmpeg children (Linux /proc). */
function ffmpegChildren(): string[] {
  return readdirSync('/proc/self/task')
    .flatMap((tid) => readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'ffmpeg'
      } catch {
        return false
      }
    })
}

t.test('a consumer that stops early ends ffmpeg', async (t) => {
  const src = videoSource(VTEST_AVI)
  for await (const f of src.frames([1, 2, 700])) {
    t.equal(f.index, 1)
    t.equal(ffmpegChildren().length, 1, 'ffmpeg is decoding')
    break
  }
  const deadline = Date.now() + 5000
  while (ffmpegChildren().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  t.same(ffmpegChildren(), [], 'no ffmpeg left running')
})

t.test('a file that is not a video, or a frame past the end, is a one-line error', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'deepn-video-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const bad = join(dir, 'not-a-video.avi')
  writeFileSync(bad, 'hello')
  t.throws(() => videoSource(bad), /--video .*not-a-video\.avi: ffprobe cannot read it/)
  t.throws(() => videoSource(join(dir, 'missing.avi')), /--video .*missing\.avi: ffprobe cannot read it/)
  // any video ffmpeg reads: a 5-frame clip made by ffmpeg's own test source (quicker than running off vtest's end)
  const clip = join(dir, 'five.avi')
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-nostdin',
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=64x48:rate=10',
    '-frames:v',
    '5',
    clip,
  ])
  const five = videoSource(clip)
  t.same([five.width, five.height, five.count], [64, 48, 5])
  t.same(
    (await collect(five.frames([0, 4]))).map((f) => f.index),
    [0, 4],
  )
  await t.rejects(collect(five.frames([3, 6])), /five\.avi: ffmpeg gave 5 frames, frame 6 was asked for/)
})

function png(dir: string, name: string, w: number, h: number, value: number): void {
  const p = new PNG({ width: w, height: h })
  p.data.fill(value)
  for (let i = 3; i < p.data.length; i += 4) p.data[i] = 255
  writeFileSync(join(dir, name), PNG.sync.write(p))
}

t.test('an image folder streams in name order; a frame of another size is refused by name', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'deepn-frames-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  png(dir, 'b.png', 16, 8, 20)
  png(dir, 'a.png', 16, 8, 10)
  png(dir, 'c.png', 8, 8, 30)
  writeFileSync(join(dir, 'notes.txt'), 'not an image')
  const src = imageFolderSource(dir)
  t.same([src.width, src.height, src.count], [16, 8, 3])
  const [a, b] = await collect(src.frames([0, 1]))
  t.same([a.image.data[0], b.image.data[0]], [10, 20], 'a.png then b.png')
  await t.rejects(collect(src.frames([2])), /c\.png is 8x8, the first image a\.png is 16x8/)
  t.throws(() => imageFolderSource(join(dir, 'nope')), /--images .*nope: cannot list it/)
  const empty = mkdtempSync(join(tmpdir(), 'deepn-frames-'))
  t.teardown(() => rmSync(empty, { recursive: true, force: true }))
  t.throws(() => imageFolderSource(empty), /no \.png, \.jpg/)
})

t.test('splitFrames: calibration before test, subsampling and limit apply to the test half', async (t) => {
  const s = splitFrames(795)
  t.equal(s.calibration.length, 400)
  t.same([s.test[0], s.test.at(-1), s.test.length], [400, 794, 395])
  t.same(splitFrames(795, { every: 4 }).test.slice(0, 3), [400, 404, 408])
  t.equal(splitFrames(795, { every: 4 }).test.length, 99)
  t.same(splitFrames(795, { every: 10, limit: 2 }).test, [400, 410])
  t.same(splitFrames(10).calibration, [0, 1, 2, 3, 4], 'a short source splits in half')
  t.same(splitFrames(10, { split: 8 }).test, [8, 9])
  t.throws(() => splitFrames(10, { split: 10 }), /--split must be an integer in 1\.\.9/)
  t.throws(() => splitFrames(10, { every: 0 }), /--every must be an integer >= 1/)
})

import t from 'tap'
import { captureOptionsFromConfig, createSource } from '../../agent/capture'
import { defaults } from '../../shared/config'

t.test('schema defaults map onto createSource options', async (t) => {
  const c = defaults().capture
  const o = captureOptionsFromConfig(c)
  t.equal(o.source, 'synthetic')
  t.equal(o.warmupMs, c.warmupMs)
  t.equal(o.files, undefined, 'no files dir → no files options')
  t.equal(o.rpicam?.stride, undefined, 'stride 0 means auto-detect, not a stride of 0')
  t.equal(o.rpicam?.framerate, c.rpicamFramerate)
  const src = createSource(o)
  const frame = await src.capture()
  t.same([frame.width, frame.height], [c.width, c.height])
  await src.close()
})

t.test('every capture key the sources read is passed through', async (t) => {
  const c = {
    ...defaults().capture,
    source: 'rpicam' as const,
    rpicamMode: 'vid' as const,
    rpicamFramerate: 15,
    rpicamStride: 704,
    warmupMs: 250,
    filesDir: '/srv/frames',
    filesLoop: false,
  }
  const o = captureOptionsFromConfig(c)
  t.same(o.rpicam, { mode: 'vid', framerate: 15, stride: 704 })
  t.same(o.files, { dir: '/srv/frames', loop: false })
  t.equal(o.warmupMs, 250)
})

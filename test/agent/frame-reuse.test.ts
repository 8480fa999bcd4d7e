/**
 * Big per-frame buffers are reused instead of allocated per frame (each 1080p RGB frame freed and allocated again
 * grew glibc's heap by megabytes that were never handed back): the capture loop hands each frame back to its source
 * once it is encoded and stored, the synthetic camera draws the next frame into that memory, and the encoder keeps
 * one output buffer. Reuse must never change a byte: every stored JPEG is the one a fresh frame would give.
 */
import t from 'tap'
import { createSource, syntheticFrame } from '../../agent/capture'
import { SyntheticSource } from '../../agent/capture/synthetic'
import { MemoryFrameStore } from '../../agent/buffer/memory-store'
import { CaptureLoop } from '../../agent/pipeline/capture-loop'
import { AgentStats } from '../../agent/pipeline/stats'
import { resolveTables } from '../../agent/pipeline/tables'
import { applyPartial, defaults } from '../../shared/config'
import { encodeJpeg } from '../../shared/codec'
import type { RawImage } from '../../shared/codec/types'
import { memoryLogger } from '../helpers/log'

t.test('synthetic source: a released frame is drawn over by the next capture, nothing else is', async (t) => {
  const src = new SyntheticSource(64, 48)
  const f0 = await src.capture()
  const f1 = await src.capture() // f0 not released: new memory, f0 intact
  t.ok(f1.data !== f0.data, 'without release, new memory')
  t.ok(Buffer.from(f0.data).equals(Buffer.from(syntheticFrame(64, 48, 0).data)), 'an unreleased frame keeps its pixels')
  src.release(f1)
  const f2 = await src.capture()
  t.ok(f2.data === f1.data, 'the released memory is reused')
  t.ok(Buffer.from(f2.data).equals(Buffer.from(syntheticFrame(64, 48, 2).data)), 'and holds exactly frame 2')
  src.release(f0) // not the last frame given out: ignored
  src.release(f2)
  src.release(f2) // twice: still one spare
  const f3 = await src.capture()
  const f4 = await src.capture()
  t.ok(f3.data === f2.data, 'reused again after a foreign release')
  t.ok(f4.data !== f3.data, 'a frame released twice is not given out twice')
  t.throws(() => syntheticFrame(64, 48, 0, new Uint8Array(10)), /'into' holds 10 bytes, a 64x48 RGB frame needs 9216/)
})

t.test('capture loop: each frame goes back to its source after it is stored; JPEGs are unchanged', async (t) => {
  const config = applyPartial(defaults(), {
    'capture.width': 160,
    'capture.height': 120,
    'capture.intervalMs': 0,
    'capture.maxFrames': 6,
  })
  const store = new MemoryFrameStore()
  const seen: Uint8Array[] = []
  const formats = new Set<string>()
  const loop = new CaptureLoop({
    config,
    store,
    createSource,
    encode: encodeJpeg,
    stats: new AgentStats(),
    log: memoryLogger('warn'),
    payloadLimit: () => Infinity,
    observe: (image: RawImage) => {
      seen.push(image.data)
      formats.add(image.format)
    },
  })
  const done = new Promise<void>((resolve) => loop.once('done', () => resolve()))
  loop.start()
  await done
  await loop.stop()
  t.equal(seen.length, 6)
  t.ok(
    seen.every((d) => d === seen[0]),
    'all six frames were drawn into the same memory',
  )
  t.same(
    [...formats],
    ['yuv420p'],
    'a 4:2:0 encoder gets I420 frames from the synthetic camera (half the memory of RGB)',
  )
  const tables = resolveTables(config.encoder)
  const stored = store.peek(10)
  t.equal(stored.length, 6)
  stored.forEach((f, n) => {
    const fresh = encodeJpeg(syntheticFrame(160, 120, n), {
      tables: tables.tables,
      huffman: tables.huffman,
      subsampling: config.encoder.subsampling,
    })
    t.ok(Buffer.from(f.jpeg).equals(Buffer.from(fresh)), `frame ${n}: the JPEG of a freshly allocated frame`)
  })
})

t.test(
  'capture loop: a 4:4:4 encoder gets RGB frames, and a switch to 4:2:0 reopens the camera for I420',
  async (t) => {
    const config = applyPartial(defaults(), {
      'capture.width': 64,
      'capture.height': 48,
      'capture.intervalMs': 0,
      'encoder.subsampling': '444',
    })
    const store = new MemoryFrameStore()
    const formats: string[] = []
    let switched = false
    const loop = new CaptureLoop({
      config,
      store,
      createSource,
      encode: encodeJpeg,
      stats: new AgentStats(),
      log: memoryLogger('warn'),
      payloadLimit: () => Infinity,
      observe: (image: RawImage) => {
        formats.push(image.format)
      },
    })
    const after = new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (!switched && formats.length >= 2) {
          switched = true
          loop.reconfigure(applyPartial(config, { 'encoder.subsampling': '420' }), ['encoder.subsampling'])
        }
        if (formats.at(-1) === 'yuv420p') {
          clearInterval(poll)
          resolve()
        }
      }, 5)
    })
    loop.start()
    await after
    await loop.stop()
    t.equal(formats[0], 'rgb', 'RGB while the encoder is 4:4:4 (I420 cannot be encoded as 4:4:4)')
    t.equal(formats.at(-1), 'yuv420p', 'I420 after the switch')
    t.equal(store.peek(1000).length, formats.length, 'every frame was encoded and stored, none refused by the encoder')
  },
)

t.test('encoder: consecutive results are independent exact-size copies', async (t) => {
  const a = encodeJpeg(syntheticFrame(320, 240, 1), { quality: 90 })
  const copy = Uint8Array.from(a)
  const b = encodeJpeg(syntheticFrame(96, 64, 2), { quality: 50 })
  t.ok(Buffer.from(a).equals(Buffer.from(copy)), 'the next encode does not write over an earlier result')
  t.equal(a.buffer.byteLength, a.length, 'a result owns exactly its bytes')
  t.equal(b.buffer.byteLength, b.length)
  t.ok(
    Buffer.from(encodeJpeg(syntheticFrame(320, 240, 1), { quality: 90 })).equals(Buffer.from(a)),
    'same input, same bytes, with a reused buffer',
  )
})

/** CalibrationSession (left 8x8 block at 128+v, right at 128−v): idle frames are ignored, one calibration at a time, onDone with the result, errors contained. */
import t from 'tap'
import type { RawImage } from '../../shared/codec/types'
import { CalibrationBusyError, CalibrationSession } from '../../agent/calibration/session'
import type { CalibrationResult } from '../../agent/calibration/collector'

const frame = (v: number): RawImage => ({
  width: 16,
  height: 8,
  format: 'gray',
  data: new Uint8Array(128).map((_, i) => (i % 16 < 8 ? 128 + v : 128 - v)),
})

t.test('collects only while started, reports once, then is idle again', async (t) => {
  const s = new CalibrationSession()
  s.observe(frame(10)) // idle: ignored
  t.notOk(s.active)
  const done: CalibrationResult[] = []
  s.start({ frames: 3, deviceId: 'cam-3' }, (r) => done.push(r))
  t.ok(s.active)
  t.throws(() => s.start({ frames: 1 }, () => {}), CalibrationBusyError)
  s.observe(frame(10))
  s.observe(frame(10))
  t.equal(s.frames, 2)
  t.equal(done.length, 0)
  s.observe(frame(10))
  t.equal(done.length, 1, 'onDone after N frames')
  t.notOk(s.active)
  t.equal(done[0].report.frames, 3, 'frames before start() were not counted')
  t.equal(done[0].report.lumaSigma[0], 80, 'σ_DC = 8·10: the two blocks sit at ±80')
  t.equal(done[0].table.id, 'calibrated-cam-3')
  s.observe(frame(10))
  t.equal(done.length, 1, 'idle again')
})

t.test('a bad frame ends the calibration through onError; cancel returns what was collected', async (t) => {
  const s = new CalibrationSession()
  const errors: Error[] = []
  s.start(
    { frames: 5 },
    () => t.fail('must not complete'),
    (e) => errors.push(e),
  )
  s.observe({ width: 16, height: 8, format: 'gray', data: new Uint8Array(3) })
  t.equal(errors.length, 1)
  t.match(errors[0].message, /image\.data: 3 bytes/)
  t.notOk(s.active)
  t.throws(() => s.start({ frames: 0 }, () => {}), /frames must be an integer >= 1/)
  t.notOk(s.active, 'bad options arm nothing')
  s.start({ frames: 5 }, () => t.fail('cancelled'))
  t.equal(s.cancel(), undefined, 'nothing collected yet')
  s.start({ frames: 5 }, () => t.fail('cancelled'))
  s.observe(frame(4))
  const partial = s.cancel()
  t.equal(partial?.report.frames, 1)
  t.notOk(s.active)
})

/** AgentStats.framesPerSec: frames encoded per second over the last minute, the `framesPerSec` telemetry field. */
import t from 'tap'
import { AgentStats } from '../../agent/pipeline/stats'

t.test('frames per second over the window, less since the start', async (t) => {
  const s = new AgentStats()
  const t0 = s.startedAt
  t.equal(s.framesPerSec(t0 + 1000), 0, 'no frame yet')
  for (let i = 1; i <= 10; i++) s.recordEncode(5, 100, t0 + i * 500) // 2 frames/s for 5 s
  t.equal(s.framesPerSec(t0 + 5000), 2, 'since the start: 10 frames in 5 s')
  t.equal(s.framesPerSec(t0 + 65000), 0, 'a minute later with no frame: 0')
  t.equal(s.framesPerSec(t0 + 62000), 0.1, 'the window 2..62 s holds the 6 frames at 2.5..5 s')
})

t.test('more frames than samples kept: the window shrinks to them', async (t) => {
  const s = new AgentStats()
  const t0 = s.startedAt
  for (let i = 1; i <= 3000; i++) s.recordEncode(1, 10, t0 + i * 10) // 100 frames/s for 30 s
  t.equal(s.framesPerSec(t0 + 30000), 100)
})

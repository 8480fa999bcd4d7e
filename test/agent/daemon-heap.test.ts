/**
 * `deepn run` applies the daemon's V8 settings itself (a plain run has no NODE_OPTIONS), unless the user set the
 * same flag either way.
 */
import t from 'tap'
import { join } from 'node:path'
import { applyDaemonHeapSettings } from '../../agent/daemon-heap'
import { startMosquitto } from '../helpers/mosquitto'
import { agentDir, spawnAgent, writeConfig } from '../helpers/agent-process'

t.test("the user's own choice wins", async (t) => {
  t.same(
    applyDaemonHeapSettings(['--optimize-for-size', '--semi-space-growth-factor=2'], ''),
    [],
    "on node's command line",
  )
  t.same(
    applyDaemonHeapSettings([], '--max-semi-space-size=2 --no-optimize-for-size'),
    ['--semi-space-growth-factor=1'],
    'turned off in NODE_OPTIONS',
  )
  t.same(applyDaemonHeapSettings([], '--optimize_for_size --semi_space_growth_factor=4'), [], 'underscore spelling')
  t.same(
    applyDaemonHeapSettings([], '--max-semi-space-size=2'),
    ['--optimize-for-size', '--semi-space-growth-factor=1'],
    'other flags do not count',
  )
})

t.test('a plain deepn run applies them', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const dir = agentDir()
  const env: Record<string, string> = { NODE_OPTIONS: '' }
  const agent = spawnAgent(
    writeConfig(dir, {
      deviceId: 'daemon-heap',
      mqtt: { url: broker.url },
      capture: { width: 64, height: 48, intervalMs: 200 },
      buffer: { path: join(dir, 'buffer.db') },
      log: { level: 'debug' },
    }),
    env,
  )
  t.teardown(() => agent.signal('SIGKILL'))
  await agent.waitForOutput(/running/)
  t.match(agent.output(), /V8: --optimize-for-size --semi-space-growth-factor=1/)
  agent.signal('SIGTERM')
  t.equal(await agent.exited, 0)
})

/**
 * What a plain `deepn run` loads: not the calibration collector and the DeepN table builder behind it (loaded on
 * the first calibration request), not the offline tools, the backend or the demo's broker, not the image decoders
 * of the files source. Each module loaded is source text, bytecode and objects the agent keeps in its heap for as
 * long as it runs (README, Memory). A preloaded hook lists require.cache at exit.
 */
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startMosquitto } from '../helpers/mosquitto'
import { agentDir, spawnAgent, writeConfig } from '../helpers/agent-process'
import { subscribe } from '../helpers/subscriber'

const NOT_LOADED =
  /[\\/]dist[\\/](agent[\\/]calibration[\\/]collector|shared[\\/]deepn[\\/]|scripts[\\/]|agent[\\/]image-files[\\/])|[\\/]node_modules[\\/](aedes|ws|socks|jpeg-js|pngjs)[\\/]/

t.test('a plain deepn run loads neither calibration nor offline, backend or decoder modules', async (t) => {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const dir = agentDir()
  const out = join(dir, 'modules.json')
  const hook = join(dir, 'modules-hook.js')
  writeFileSync(
    hook,
    `process.on('exit', () => require('node:fs').writeFileSync(process.env.MODULES_OUT, JSON.stringify(Object.keys(require.cache))))\n`,
  )
  const deviceId = 'plain-modules'
  const sub = await subscribe(broker.url, [`deepn/${deviceId}/#`])
  t.teardown(() => sub.close())
  const agent = spawnAgent(
    writeConfig(dir, {
      deviceId,
      mqtt: { url: broker.url },
      capture: { width: 64, height: 48, intervalMs: 200 },
      buffer: { path: join(dir, 'buffer.db') },
      telemetry: { intervalMs: 1000 },
    }),
    { NODE_OPTIONS: `--require ${hook}`, MODULES_OUT: out },
  )
  t.teardown(() => agent.signal('SIGKILL'))
  await agent.waitForOutput(/running/)
  await sub.waitFor(
    () => sub.on('frames').length >= 3 && sub.on('telemetry').length >= 1,
    20000,
    'frames and telemetry',
  )
  agent.signal('SIGTERM')
  t.equal(await agent.exited, 0, agent.output())
  const loaded = JSON.parse(readFileSync(out, 'utf8')) as string[]
  t.ok(
    loaded.some((f) => /[\\/]dist[\\/]agent[\\/]controller\.js$/.test(f)),
    'the hook saw the agent load',
  )
  t.same(
    loaded.filter((f) => NOT_LOADED.test(f)),
    [],
    'none of them loaded',
  )
})

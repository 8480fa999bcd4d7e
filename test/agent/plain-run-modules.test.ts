/**
 * What a plain `deepn run` loads: not the calibration collector and the DeepN table builder behind it (loaded on
 * the first calibration request), not the offline tools, the backend or the demo's broker, not the image decoders
 * of the files source. Each module loaded is source text, bytecode and objects the agent keeps in its heap for as
 * long as it runs (README, Memory). A preloaded hook lists require.cache at exit.
 */
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { agentDir } from '../helpers/agent-process'
import { plainRunWithHook } from '../helpers/plain-run'

const NOT_LOADED =
  /[\\/]dist[\\/](agent[\\/]calibration[\\/]collector|shared[\\/]deepn[\\/]|scripts[\\/]|agent[\\/]image-files[\\/])|[\\/]node_modules[\\/](aedes|ws|socks|jpeg-js|pngjs)[\\/]/

t.test('a plain deepn run loads neither calibration nor offline, backend or decoder modules', async (t) => {
  const dir = agentDir()
  const out = join(dir, 'modules.json')
  const hook = join(dir, 'modules-hook.js')
  writeFileSync(
    hook,
    `process.on('exit', () => require('node:fs').writeFileSync(process.env.MODULES_OUT, JSON.stringify(Object.keys(require.cache))))\n`,
  )
  await plainRunWithHook(t, { dir, deviceId: 'plain-modules', hook, env: { MODULES_OUT: out } })
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

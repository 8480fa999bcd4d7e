/**
 * A plain `deepn run` never calls the Date methods that set up V8's time-zone cache (toISOString, toJSON, local
 * time), which reads ICU's time-zone data and keeps about 0.8 MiB of the node binary resident (shared/contract/
 * time.ts). A preloaded hook records every such call with its caller while the agent captures, publishes, logs and
 * sends telemetry and status.
 */
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { agentDir } from '../helpers/agent-process'
import { plainRunWithHook } from '../helpers/plain-run'

const ZONE_METHODS = [
  'toISOString',
  'toJSON',
  'toString',
  'toDateString',
  'toTimeString',
  'toLocaleString',
  'toLocaleDateString',
  'toLocaleTimeString',
  'getTimezoneOffset',
  'getFullYear',
  'getMonth',
  'getDate',
  'getDay',
  'getHours',
  'getMinutes',
  'getSeconds',
  'getMilliseconds',
]

/**
 * A --require hook: each call of a zone method is written to $DATE_HOOK_OUT at exit, with two frames of its stack.
 * Calls from the test runner's own process tracking (it follows child processes) are not the agent's.
 */
function writeHook(dir: string): string {
  const file = join(dir, 'date-hook.js')
  writeFileSync(
    file,
    `const calls = new Set()
for (const name of ${JSON.stringify(ZONE_METHODS)}) {
  const orig = Date.prototype[name]
  Date.prototype[name] = function (...args) {
    const where = (new Error().stack ?? '').split('\\n').slice(2, 4).join(' | ').replace(/\\s+/g, ' ')
    if (!where.includes('/@tapjs/')) calls.add(name + ' ' + where)
    return orig.apply(this, args)
  }
}
process.on('exit', () => require('node:fs').writeFileSync(process.env.DATE_HOOK_OUT, [...calls].join('\\n')))
`,
  )
  return file
}

t.test('the hook sees a call (it can fail)', async (t) => {
  const dir = agentDir()
  const out = join(dir, 'calls.txt')
  const r = spawnSync(process.execPath, ['--require', writeHook(dir), '-e', 'JSON.stringify({ at: new Date() })'], {
    env: { ...process.env, DATE_HOOK_OUT: out },
  })
  t.equal(r.status, 0)
  t.match(readFileSync(out, 'utf8'), /^toJSON /m)
})

t.test('a plain deepn run makes no such call', async (t) => {
  const dir = agentDir()
  const out = join(dir, 'calls.txt')
  const agent = await plainRunWithHook(t, {
    dir,
    deviceId: 'tz-free',
    hook: writeHook(dir),
    env: { DATE_HOOK_OUT: out },
    config: { log: { level: 'debug' } },
  })
  t.match(agent.output(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /m, 'log lines still carry their ISO time')
  t.equal(readFileSync(out, 'utf8'), '', 'no time-zone method called')
})

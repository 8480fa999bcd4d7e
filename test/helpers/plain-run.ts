/**
 * A short plain `deepn run` against a real Mosquitto, with a module preloaded into the agent (`--require`) that
 * watches it: frames, telemetry and status flow, then a clean SIGTERM. Tests of what a plain run does and does not
 * do (modules it loads, calls it makes) share it.
 */
import { join } from 'node:path'
import type { Test } from 'tap'
import { type AgentProcess, spawnAgent, writeConfig } from './agent-process'
import { startMosquitto } from './mosquitto'
import { subscribe } from './subscriber'

export interface PlainRun {
  /** The agent's folder (config, buffer). */
  dir: string
  deviceId: string
  /** The module preloaded into the agent. */
  hook: string
  /** More environment for the agent (where the hook writes what it saw). */
  env?: Record<string, string>
  /** More config keys (merged over the plain run's). */
  config?: Record<string, unknown>
}

export async function plainRunWithHook(t: Test, o: PlainRun): Promise<AgentProcess> {
  const broker = await startMosquitto()
  t.teardown(() => broker.stop())
  const sub = await subscribe(broker.url, [`deepn/${o.deviceId}/#`])
  t.teardown(() => sub.close())
  const agent = spawnAgent(
    writeConfig(o.dir, {
      deviceId: o.deviceId,
      mqtt: { url: broker.url },
      capture: { width: 64, height: 48, intervalMs: 200 },
      buffer: { path: join(o.dir, 'buffer.db') },
      telemetry: { intervalMs: 1000 },
      ...o.config,
    }),
    { NODE_OPTIONS: `--require ${o.hook}`, ...o.env },
  )
  t.teardown(() => agent.signal('SIGKILL'))
  await agent.waitForOutput(/running/)
  await sub.waitFor(
    () => sub.on('frames').length >= 3 && sub.on('telemetry').length >= 1 && sub.on('status').length >= 1,
    20000,
    'frames, telemetry and status',
  )
  agent.signal('SIGTERM')
  t.equal(await agent.exited, 0, agent.output())
  return agent
}

/**
 * One fault scenario: a real Mosquitto (persistent, so its restarts keep queued QoS 1 messages for the ledger's
 * session), the ledger subscribed before the agent starts, and the real agent process (`deepn run`) on a config
 * of the scenario's own. `finish()` stops the agent, prints the scenario's counts and fails on any frame lost
 * without a report.
 */
import type { Test } from 'tap'
import { join } from 'node:path'
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto'
import { agentDir, spawnAgent, writeConfig, type AgentProcess } from '../helpers/agent-process'
import { describeAccount, Ledger, type Account } from './ledger'

export interface Scenario {
  broker: Mosquitto
  ledger: Ledger
  dir: string
  bufferPath: string
  config: Record<string, unknown>
  agent: AgentProcess
  /** Starts the agent again on the same config and buffer (after a kill). */
  restart(): AgentProcess
  /** Stops the agent (SIGTERM, or nothing if it is gone), accounts, prints and checks. */
  finish(): Promise<Account>
}

export async function startScenario(
  t: Test,
  deviceId: string,
  extra: Record<string, Record<string, unknown>> = {},
): Promise<Scenario> {
  const broker = await startMosquitto({ persistence: true })
  t.teardown(() => broker.stop())
  const ledger = await Ledger.open(broker.url, deviceId)
  t.teardown(() => ledger.close())
  const dir = agentDir()
  const bufferPath = (extra.buffer?.path as string | undefined) ?? join(dir, 'buffer.db')
  const base: Record<string, Record<string, unknown>> = {
    mqtt: { url: broker.url, reconnectMinMs: 100, reconnectMaxMs: 500 },
    capture: { width: 64, height: 48, intervalMs: 25 },
    buffer: { path: bufferPath },
    telemetry: { intervalMs: 1000 },
    log: { level: 'info' },
  }
  // Per section, so a scenario's `buffer: { maxFrames }` keeps the buffer in the scenario's folder.
  const config: Record<string, unknown> = { deviceId }
  for (const key of new Set([...Object.keys(base), ...Object.keys(extra)])) {
    config[key] = { ...base[key], ...(extra[key] as Record<string, unknown> | undefined) }
  }
  const file = writeConfig(dir, config)
  const s: Scenario = {
    broker,
    ledger,
    dir,
    bufferPath,
    config,
    agent: spawnAgent(file),
    restart: () => {
      s.agent = spawnAgent(file)
      return s.agent
    },
    finish: async () => {
      if (s.agent.proc.exitCode === null && s.agent.proc.signalCode === null) {
        s.agent.signal('SIGTERM')
        t.equal(await s.agent.exited, 0, 'the agent stops cleanly', { output: s.agent.output().slice(-4000) })
      }
      // The broker acknowledges a frame to the agent before it reaches the ledger: give frames in transit (e.g. a
      // queue the broker holds for the ledger's session after a restart) time to land before anything counts as lost.
      let a = ledger.account(bufferPath)
      for (
        const deadline = Date.now() + 20000;
        a.unreported.length && Date.now() < deadline;
        a = ledger.account(bufferPath)
      ) {
        await new Promise((r) => setTimeout(r, 250))
      }
      t.comment(describeAccount(deviceId, a))
      t.same(a.bad, [], 'every frame carries one seq and decodes with djpeg')
      t.same(a.unreported, [], 'no frame lost without a report')
      return a
    },
  }
  t.teardown(() => s.agent.signal('SIGKILL'))
  return s
}

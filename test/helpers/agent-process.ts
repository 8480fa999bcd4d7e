/**
 * Runs the real agent as a child process: `node dist/agent/cli.js run --config <generated file>`.
 * Needs a build (`npm test` builds first; in a dev loop run `npx tsc -p .`).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export const CLI = resolve(__dirname, '../../dist/agent/cli.js')

export interface AgentProcess {
  proc: ChildProcess
  output(): string
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>
  signal(sig: NodeJS.Signals): void
  /** Resolves once the output matches `re` (e.g. /running/ once signal handlers are installed). */
  waitForOutput(re: RegExp, ms?: number): Promise<void>
}

const children = new Set<ChildProcess>()
process.once('exit', () => {
  for (const p of children) p.kill('SIGKILL')
})

export function agentDir(): string {
  return mkdtempSync(join(tmpdir(), 'deepn-agent-proc-'))
}

export function writeConfig(dir: string, config: Record<string, unknown>): string {
  const file = join(dir, 'config.json')
  writeFileSync(file, JSON.stringify(config, null, 2))
  return file
}

export function spawnAgent(
  configFile: string,
  env: Record<string, string> = {},
  args: string[] = ['run'],
): AgentProcess {
  if (!existsSync(CLI)) throw new Error(`${CLI} missing: build first (npx tsc -p .)`)
  let out = ''
  const proc = spawn(process.execPath, [CLI, ...args, '--config', configFile], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  proc.stdout!.on('data', (d) => {
    out += d
  })
  proc.stderr!.on('data', (d) => {
    out += d
  })
  const exited = new Promise<number | string>((res) => proc.once('exit', (code, sig) => res(code ?? sig ?? -1)))
  children.add(proc)
  proc.once('exit', () => children.delete(proc))
  const waitForOutput = async (re: RegExp, ms = 30000): Promise<void> => {
    const deadline = Date.now() + ms
    while (!re.test(out)) {
      if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`agent output never matched ${re}:\n${out}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  return {
    proc,
    output: () => out,
    exited,
    signal: (s) => {
      proc.kill(s)
    },
    waitForOutput,
  }
}

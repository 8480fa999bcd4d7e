/**
 * V8 settings for the long-running agent, applied by `deepn run` itself so a plain run gets them without
 * NODE_OPTIONS. `--optimize-for-size` makes V8 trade a little speed for a smaller heap (compacts more eagerly,
 * grows the old generation in smaller steps): the agent's old space holds 6 MB of live objects in 8 MB by default
 * and 6.5 MB with it, about 1.2 MB of RSS, for a daemon that is idle most of each frame interval. It is one of
 * the few V8 flags read while running rather than only at start-up. `--semi-space-growth-factor=1` keeps the young
 * generation at the size it has when the agent starts instead of doubling it under the per-frame allocation rate:
 * measured on a 1080p run, new space stayed at 2 MB instead of 4-8 MB, 2 MB less RSS, with no more scavenges per
 * frame than the frame's own ArrayBuffers already cause. What is read only when the process starts (the
 * semi-space maximum, glibc's arenas) is fixed by then: the `deepn` command sets it before node starts
 * (agent/bin/deepn).
 */
import { setFlagsFromString } from 'node:v8'

export const DAEMON_V8_FLAGS = ['--optimize-for-size', '--semi-space-growth-factor=1']

/** Applies DAEMON_V8_FLAGS unless the user chose otherwise in NODE_OPTIONS or on node's command line. */
export function applyDaemonHeapSettings(
  execArgv: string[] = process.execArgv,
  nodeOptions = process.env.NODE_OPTIONS ?? '',
): string[] {
  const given = `${execArgv.join(' ')} ${nodeOptions}`
  const applied: string[] = []
  for (const flag of DAEMON_V8_FLAGS) {
    const name = flag
      .replace(/^--(no-)?/, '')
      .replace(/=.*/, '')
      .replace(/_/g, '-')
    if (new RegExp(`--(no-)?${name}\\b`).test(given.replace(/_/g, '-'))) continue
    setFlagsFromString(flag)
    applied.push(flag)
  }
  return applied
}

/**
 * Start-up checks of the local paths the agent reads. They are restart-only settings, so a wrong one cannot be
 * fixed while running: better one clear line and a non-zero exit now than a camera or TLS error retried forever.
 */
import { accessSync, constants, statSync } from 'node:fs'
import type { AgentConfig } from '../shared/config/types'
import { ConfigError } from '../shared/config'
import { describeFsError } from './output-file'

/** `capture.filesDir` must be a readable folder when the `files` source is selected. */
export function checkCapturePaths(c: AgentConfig['capture']): void {
  if (c.source !== 'files') return
  if (!c.filesDir)
    throw new ConfigError(`'capture.filesDir' is required for capture.source 'files': set it to a folder of images`)
  const why = unreadable(c.filesDir, 'dir')
  if (why)
    throw new ConfigError(`'capture.filesDir' ${c.filesDir}: ${why} (set capture.filesDir to a folder of images)`)
}

/** TLS files named in `mqtt.ca`, `mqtt.cert`, `mqtt.key` must be readable files. */
export function checkMqttPaths(m: AgentConfig['mqtt']): void {
  for (const key of ['ca', 'cert', 'key'] as const) {
    const file = m[key]
    if (!file) continue
    const why = unreadable(file, 'file')
    if (why) throw new ConfigError(`'mqtt.${key}' ${file}: ${why}`)
  }
}

function unreadable(path: string, kind: 'dir' | 'file'): string | undefined {
  try {
    const st = statSync(path)
    if (kind === 'dir' && !st.isDirectory()) return 'not a directory'
    if (kind === 'file' && st.isDirectory()) return 'is a directory'
    accessSync(path, constants.R_OK)
    return undefined
  } catch (err) {
    return describeFsError(err)
  }
}

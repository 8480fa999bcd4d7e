import { accessSync, constants, statSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { CameraToolMissingError } from './errors'

export const CAMERA_TOOLS = ['raspistill', 'rpicam-still', 'libcamera-still', 'rpicam-vid', 'libcamera-vid'] as const
export type CameraTool = (typeof CAMERA_TOOLS)[number]

/** Full path of an executable found on PATH, or null. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue
    const p = join(dir, name)
    try {
      accessSync(p, constants.X_OK)
      if (statSync(p).isFile()) return p
    } catch {
      /* not here */
    }
  }
  return null
}

/** Which camera tools exist on PATH (path or null for each). */
export function detectCameraTools(env: NodeJS.ProcessEnv = process.env): Record<CameraTool, string | null> {
  const out = {} as Record<CameraTool, string | null>
  for (const tool of CAMERA_TOOLS) out[tool] = findOnPath(tool, env)
  return out
}

/** One line for logs: "camera tools: rpicam-still, rpicam-vid (missing: raspistill, ...)". */
export function describeCameraTools(found: Record<CameraTool, string | null>): string {
  const have = CAMERA_TOOLS.filter((t) => found[t])
  const missing = CAMERA_TOOLS.filter((t) => !found[t])
  return `camera tools: ${have.length ? have.join(', ') : 'none'}${missing.length ? ` (missing: ${missing.join(', ')})` : ''}`
}

export type ToolNeed = 'raspistill' | 'still' | 'vid'

/** The executable name to run for a need, preferring rpicam-* over the Bullseye libcamera-* names. */
export function resolveCameraTool(need: ToolNeed, env: NodeJS.ProcessEnv = process.env): string {
  const found = detectCameraTools(env)
  if (need === 'raspistill') {
    if (found.raspistill) return 'raspistill'
    throw new CameraToolMissingError(missingMessage('raspistill', found))
  }
  const [current, legacy] =
    need === 'still' ? (['rpicam-still', 'libcamera-still'] as const) : (['rpicam-vid', 'libcamera-vid'] as const)
  if (found[current]) return current
  if (found[legacy]) return legacy
  throw new CameraToolMissingError(missingMessage(current, found))
}

/** The message for a tool that is not there, with the way out. */
export function missingMessage(tool: string, found: Record<CameraTool, string | null> = detectCameraTools()): string {
  if (tool === 'raspistill') {
    const alt = found['rpicam-still'] || found['libcamera-still'] ? ' (rpicam-still is installed here)' : ''
    return (
      'raspistill not found: it is gone from Raspberry Pi OS Bookworm (legacy camera stack); ' +
      `use source rpicam${alt}`
    )
  }
  const legacy = tool.replace('rpicam-', 'libcamera-')
  const alt = found.raspistill
    ? '; raspistill is installed here, so source raspistill may work (legacy camera stack)'
    : ''
  return `${tool} not found (nor ${legacy}): install rpicam-apps (sudo apt install rpicam-apps)${alt}`
}

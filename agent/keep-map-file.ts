/** An importance map file (`<clip>-ssd-map.json`, what the backend learns and pushes as `encoder.keepMap`), read and checked. */
import { readFileSync } from 'node:fs'
import { checkKeepMap, type KeepMap } from '../shared/spatial/keep-map'

/** The map in `file`, or an Error naming the option, the file and what is wrong with it. */
export function readKeepMapFile(file: string, option = '--keep-map'): KeepMap {
  try {
    return checkKeepMap(JSON.parse(readFileSync(file, 'utf8')))
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    throw new Error(`${option} ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`)
  }
}

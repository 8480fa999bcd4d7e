/**
 * SavedConfigStore in one JSON file, `{ "version": n, "remote": { ... } }`, replaced atomically (temp file, fsync,
 * rename, fsync dir: agent/atomic-file.ts), so a power cut leaves the old record or the new one, never half of one.
 * Readable and removable by hand: deleting it drops the remote layer at the next start.
 */
import { readFileSync } from 'node:fs'
import { writeFileAtomicSync } from '../atomic-file'
import { checkSaved, type SavedConfig, type SavedConfigStore } from './store'

export class FileSavedConfigStore implements SavedConfigStore {
  constructor(readonly file: string) {
    if (typeof file !== 'string' || file === '') throw new TypeError('saved configuration: file must be a path')
  }

  load(): SavedConfig | undefined {
    let text: string
    try {
      text = readFileSync(this.file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw new Error(`saved configuration ${this.file}: cannot read it (${(err as Error).message})`)
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (err) {
      throw new Error(
        `saved configuration ${this.file} is not JSON (${(err as Error).message}); the next accepted config/set replaces it`,
      )
    }
    try {
      return checkSaved(parsed as SavedConfig, `saved configuration ${this.file}`)
    } catch (err) {
      throw new Error(`${(err as Error).message}; the next accepted config/set replaces it`)
    }
  }

  save(saved: SavedConfig): void {
    const { remote, version } = checkSaved(saved)
    writeFileAtomicSync(this.file, `${JSON.stringify({ version, remote }, null, 2)}\n`)
  }
}

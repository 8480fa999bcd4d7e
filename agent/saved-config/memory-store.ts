/** In-memory SavedConfigStore: for a `:memory:` buffer, which keeps nothing across restarts either. */
import { checkSaved, type SavedConfig, type SavedConfigStore } from './store'

export class MemorySavedConfigStore implements SavedConfigStore {
  private saved?: SavedConfig

  load(): SavedConfig | undefined {
    return this.saved && checkSaved(this.saved) // a copy: the caller may change what it got
  }

  save(saved: SavedConfig): void {
    this.saved = checkSaved(saved)
  }
}

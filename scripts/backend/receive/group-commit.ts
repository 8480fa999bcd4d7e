/**
 * Group commit for the dataset: frames are written concurrently (their file fsyncs run in parallel in libuv's
 * threadpool), and what makes them durable is shared. One fsync of a folder covers every rename done in it before
 * it, and one append + fdatasync of a device's index covers all the lines of a batch, so a burst of frames pays a
 * few fsyncs instead of three each. While a batch commits, the next one gathers.
 *
 * Slots are reserved in arrival order and committed in that order (a slot still writing holds back the ones behind
 * it; a failed one is cancelled and its frame reserves a new slot when retried), so the index stays in arrival order.
 */
import { fsyncDir } from '../../../agent/atomic-file'

/** What a batch needs from a device: its index, appended and synced in one go. */
export interface IndexSink {
  appendDurable(lines: string[]): Promise<void>
}

export interface CommitItem {
  /** Folder whose entry (the rename) must be durable. */
  dir: string
  index: IndexSink
  line: string
  /** Runs once the batch is durable, before the slot's promise resolves (e.g. marks the seq stored). */
  onDurable: () => void
}

interface Slot {
  state: 'writing' | 'ready' | 'cancelled'
  item?: CommitItem
  resolve?: () => void
  reject?: (err: unknown) => void
}

export interface CommitSlot {
  /** The frame's file is written and renamed: resolves once its rename and index line are durable. */
  commit(item: CommitItem): Promise<void>
  /** The frame will not be committed through this slot (a duplicate, or its write failed). */
  cancel(): void
}

export class GroupCommit {
  private readonly slots: Slot[] = []
  private running: Promise<void> | undefined

  /** Takes the next place in commit order. */
  reserve(): CommitSlot {
    const slot: Slot = { state: 'writing' }
    this.slots.push(slot)
    return {
      commit: (item) =>
        new Promise<void>((resolve, reject) => {
          if (slot.state !== 'writing') return reject(new Error('commit slot already used'))
          Object.assign(slot, { state: 'ready', item, resolve, reject })
          this.kick()
        }),
      cancel: () => {
        if (slot.state !== 'writing') return
        slot.state = 'cancelled'
        this.kick()
      },
    }
  }

  /** Resolves once nothing is committing. */
  async idle(): Promise<void> {
    while (this.running) await this.running
  }

  private kick(): void {
    if (this.running) return
    const batch: Slot[] = []
    while (this.slots.length > 0 && this.slots[0].state !== 'writing') {
      const slot = this.slots.shift()!
      if (slot.state === 'ready') batch.push(slot)
    }
    if (batch.length === 0) return
    this.running = this.commitBatch(batch.map((s) => s.item!))
      .then(
        () => {
          for (const s of batch) s.resolve!()
        },
        (err: unknown) => {
          for (const s of batch) s.reject!(err)
        },
      )
      .finally(() => {
        this.running = undefined
        this.kick()
      })
  }

  /** Folders first (the files an index line names must exist after a crash), then each index, in parallel. */
  private async commitBatch(items: CommitItem[]): Promise<void> {
    await Promise.all([...new Set(items.map((i) => i.dir))].map((dir) => fsyncDir(dir)))
    const byIndex = new Map<IndexSink, string[]>()
    for (const i of items) {
      const lines = byIndex.get(i.index)
      if (lines) lines.push(i.line)
      else byIndex.set(i.index, [i.line])
    }
    await Promise.all([...byIndex].map(([index, lines]) => index.appendDurable(lines)))
    for (const i of items) i.onDurable()
  }
}

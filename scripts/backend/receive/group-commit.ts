/**
 * Group commit for the dataset: frames are written concurrently (not synced), and what makes them durable is
 * shared: one journal append + fdatasync for the whole batch (journal.ts), then each device's index lines in one
 * write. A burst of frames pays one sync instead of three each. While a batch commits, the next one gathers.
 *
 * Slots are reserved in arrival order and committed in that order (a slot still writing holds back the ones behind
 * it; a failed one is cancelled and its frame reserves a new slot when retried), so the index stays in arrival order.
 */
import type { FrameJournal, JournalRecord } from './journal'

/** What a batch needs from a device: its index, its lines appended in one write (synced by the journal's checkpoint). */
export interface IndexSink {
  readonly file: string
  appendLines(lines: string[]): Promise<void>
}

export interface CommitItem {
  /** The frame as the journal keeps it; `record.line` is also appended to `index`. */
  record: JournalRecord
  /** Absolute path of the frame file, written (not synced) before the commit. */
  file: string
  index: IndexSink
  /**
   * Shared folder: takes the right to append the line once the batch is in the journal (line-claim.ts); false when
   * another member took it (that member appends the line). Absent: the line is this writer's alone.
   */
  claim?: () => boolean
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
  /**
   * The frame's file is written and in place: resolves once the frame is in the journal and its index line written
   * (shared folder: or taken by another member, which writes it).
   */
  commit(item: CommitItem): Promise<void>
  /** The frame will not be committed through this slot (a duplicate, or its write failed). */
  cancel(): void
}

export class GroupCommit {
  private readonly slots: Slot[] = []
  private running: Promise<void> | undefined

  constructor(private readonly journal: FrameJournal) {}

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

  /**
   * The journal first: an index line is written only for a frame that is durable, so a failed batch (retried)
   * leaves no line behind that its retry would repeat.
   */
  private async commitBatch(items: CommitItem[]): Promise<void> {
    const indexes = new Set(items.map((i) => i.index))
    await this.journal.append(
      items.map((i) => i.record),
      [...items.map((i) => i.file), ...[...indexes].map((index) => index.file)],
    )
    // the token is taken only once the frame is durable; until then a member meeting the frame may take it instead
    const byIndex = new Map<IndexSink, string[]>()
    for (const i of items) {
      if (i.claim && !i.claim()) continue
      const lines = byIndex.get(i.index)
      if (lines) lines.push(i.record.line)
      else byIndex.set(i.index, [i.record.line])
    }
    await Promise.all([...byIndex].map(([index, lines]) => index.appendLines(lines)))
    for (const i of items) i.onDurable()
  }
}

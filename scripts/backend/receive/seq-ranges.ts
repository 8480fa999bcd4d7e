/**
 * The set of sequence numbers stored for one device, kept as sorted disjoint ranges: a steady stream is one
 * range however long it runs, so de-duplication and gap tracking cost memory per gap, not per frame.
 * A gap that later fills simply merges two ranges: it was never a loss.
 */
export interface Gap {
  /** First missing seq. */
  from: number
  /** Last missing seq. */
  to: number
}

export class SeqRanges {
  /** Sorted, disjoint, non-adjacent [lo, hi] pairs. */
  private readonly ranges: Array<[number, number]> = []
  private total = 0

  get size(): number {
    return this.total
  }

  has(seq: number): boolean {
    const i = this.indexAtOrBefore(seq)
    return i >= 0 && seq <= this.ranges[i][1]
  }

  /** Adds `seq`; returns false when it was already present (a duplicate). */
  add(seq: number): boolean {
    if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`seq must be a non-negative integer, got ${seq}`)
    const i = this.indexAtOrBefore(seq)
    if (i >= 0 && seq <= this.ranges[i][1]) return false
    const joinsLeft = i >= 0 && this.ranges[i][1] === seq - 1
    const next = this.ranges[i + 1]
    const joinsRight = next !== undefined && next[0] === seq + 1
    if (joinsLeft && joinsRight) {
      this.ranges[i][1] = next[1]
      this.ranges.splice(i + 1, 1)
    } else if (joinsLeft) {
      this.ranges[i][1] = seq
    } else if (joinsRight) {
      next[0] = seq
    } else {
      this.ranges.splice(i + 1, 0, [seq, seq])
    }
    this.total++
    return true
  }

  /** Lowest seq seen, or undefined when empty. */
  get first(): number | undefined {
    return this.ranges[0]?.[0]
  }

  /** Highest seq seen, or undefined when empty. */
  get last(): number | undefined {
    return this.ranges[this.ranges.length - 1]?.[1]
  }

  /** Highest seq such that every seq from `first` through it is present (what an end-to-end ack may claim). */
  get contiguousThrough(): number | undefined {
    return this.ranges[0]?.[1]
  }

  /** Holes between the lowest and highest seq seen. */
  gaps(): Gap[] {
    const out: Gap[] = []
    for (let i = 1; i < this.ranges.length; i++)
      out.push({ from: this.ranges[i - 1][1] + 1, to: this.ranges[i][0] - 1 })
    return out
  }

  missing(): number {
    return this.gaps().reduce((n, g) => n + g.to - g.from + 1, 0)
  }

  /** Adds every seq in [from, to] (a range the agent declared settled); returns how many were new. */
  addRange(from: number, to: number): number {
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from)
      throw new RangeError(`range must be integers 0 <= from <= to, got ${from}..${to}`)
    let lo = from
    let hi = to
    let covered = 0
    // Absorb every range that overlaps or touches [from, to].
    const keep: Array<[number, number]> = []
    for (const r of this.ranges) {
      if (r[1] < from - 1 || r[0] > to + 1) keep.push(r)
      else {
        covered += Math.max(0, Math.min(r[1], to) - Math.max(r[0], from) + 1)
        lo = Math.min(lo, r[0])
        hi = Math.max(hi, r[1])
      }
    }
    keep.push([lo, hi])
    keep.sort((a, b) => a[0] - b[0])
    this.ranges.splice(0, this.ranges.length, ...keep)
    const added = to - from + 1 - covered
    this.total += added
    return added
  }

  /** A copy (for a union with declared ranges). */
  clone(): SeqRanges {
    const c = new SeqRanges()
    for (const [lo, hi] of this.ranges) c.addRange(lo, hi)
    return c
  }

  /** The parts of [from, to] not present. */
  absentIn(from: number, to: number): Gap[] {
    const out: Gap[] = []
    let next = from
    for (const [lo, hi] of this.ranges) {
      if (hi < next) continue
      if (lo > to) break
      if (lo > next) out.push({ from: next, to: Math.min(lo - 1, to) })
      next = hi + 1
      if (next > to) break
    }
    if (next <= to) out.push({ from: next, to })
    return out
  }

  /** Binary search: index of the last range whose lo <= seq, or -1. */
  private indexAtOrBefore(seq: number): number {
    let lo = 0
    let hi = this.ranges.length - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      if (this.ranges[mid][0] <= seq) {
        found = mid
        lo = mid + 1
      } else {
        hi = mid - 1
      }
    }
    return found
  }
}

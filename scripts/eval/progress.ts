/** A one-line progress bar on stderr, for long runs: only drawn on a TTY or when forced (--progress). */
export class Progress {
  private done = 0
  private readonly start = Date.now()
  private last = 0

  constructor(
    private readonly total: number,
    private readonly enabled: boolean,
    private label = '',
  ) {}

  setLabel(label: string): void {
    this.label = label
  }

  tick(n = 1): void {
    this.done += n
    if (!this.enabled) return
    const now = Date.now()
    if (now - this.last < 100 && this.done < this.total) return
    this.last = now
    const f = this.total > 0 ? this.done / this.total : 1
    const width = 30
    const bar = '#'.repeat(Math.round(f * width)).padEnd(width, '.')
    const elapsed = (now - this.start) / 1000
    const eta = f > 0 ? elapsed / f - elapsed : 0
    process.stderr.write(
      `\r[${bar}] ${(f * 100).toFixed(0).padStart(3)}% ${this.done}/${this.total} ${elapsed.toFixed(0)}s eta ${eta.toFixed(0)}s ${this.label.padEnd(24).slice(0, 24)}`,
    )
  }

  /** Clears the bar's line so a message printed next starts on a clean line (the bar redraws at the next tick). */
  clear(): void {
    if (this.enabled) process.stderr.write('\r\x1b[K')
  }

  end(): void {
    if (this.enabled) process.stderr.write('\n')
  }
}

export function progressEnabled(flag: boolean): boolean {
  return flag || Boolean(process.stderr.isTTY)
}

/**
 * Streaming per-coefficient statistics of 8x8 DCT blocks (Welford's algorithm in Float64).
 * Memory is constant in the number of blocks: 64 means, 64 sums of squared deviations and a count, so a
 * million-block calibration costs the same as a ten-block one. Welford rather than sum/sum-of-squares because
 * the DC term's mean (~hundreds) is large against its spread, where sum-of-squares cancels catastrophically.
 */
export class SigmaAccumulator {
  private n = 0
  private readonly mu = new Float64Array(64)
  private readonly m2 = new Float64Array(64)

  /** Number of blocks seen. */
  get count(): number {
    return this.n
  }

  /** Adds one block of 64 DCT coefficients in natural row-major order. */
  add(coef: ArrayLike<number>): void {
    if (coef.length !== 64) throw new RangeError(`a DCT block has 64 coefficients, got ${coef.length}`)
    const n = ++this.n
    const mu = this.mu
    const m2 = this.m2
    for (let k = 0; k < 64; k++) {
      const x = coef[k]
      const d = x - mu[k]
      mu[k] += d / n
      m2[k] += d * (x - mu[k])
    }
  }

  /** Folds another accumulator in (Chan et al. pairwise update), e.g. to combine per-worker partials. */
  merge(other: SigmaAccumulator): void {
    if (other.n === 0) return
    const n = this.n + other.n
    for (let k = 0; k < 64; k++) {
      const d = other.mu[k] - this.mu[k]
      this.m2[k] += other.m2[k] + (d * d * this.n * other.n) / n
      this.mu[k] += (d * other.n) / n
    }
    this.n = n
  }

  /** Per-coefficient mean. */
  mean(): number[] {
    return Array.from(this.mu)
  }

  /** Per-coefficient population standard deviation (like numpy's `std`, ddof 0). Throws before any block. */
  sigma(): number[] {
    if (this.n === 0) throw new Error('no blocks accumulated: σ is undefined')
    return Array.from(this.m2, (v) => Math.sqrt(Math.max(0, v) / this.n))
  }
}

/**
 * Entropy-coded segment writer: a 32-bit bit buffer flushed a word at a time with 0xFF byte stuffing, into a
 * growable byte buffer that also receives the markers. Pure.
 */
export class ByteSink {
  buf: Uint8Array
  pos = 0

  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(1024, capacity))
  }

  /** Makes room for at least `n` more bytes (doubling, so appends stay amortised O(1)). */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    let cap = this.buf.length * 2
    while (cap < this.pos + n) cap *= 2
    const next = new Uint8Array(cap)
    next.set(this.buf.subarray(0, this.pos))
    this.buf = next
  }

  bytes(src: ArrayLike<number>): void {
    this.ensure(src.length)
    this.buf.set(src, this.pos)
    this.pos += src.length
  }

  /** The written bytes as an exactly sized copy. */
  result(): Uint8Array {
    return this.buf.slice(0, this.pos)
  }
}

export class BitWriter {
  /** Pending bits, right-aligned; bits above the pending count are don't-care. Public for the block coder. */
  acc = 0
  /** Free bit positions in `acc` (32 = empty). */
  free = 32

  constructor(readonly sink: ByteSink) {}

  /** Appends the low `size` bits of `code` (1..31 bits, e.g. a code and its value bits; higher bits must be zero). */
  put(code: number, size: number): void {
    const free = this.free - size
    if (free >= 0) {
      this.acc = (this.acc << size) | code
      this.free = free
      return
    }
    // Fill the word with the top bits of code, flush it, keep the rest (stale high bits shift out later).
    this.word((this.acc << (size + free)) | (code >>> -free))
    this.acc = code
    this.free = free + 32
  }

  private word(w: number): void {
    this.sink.pos = putWord(this.sink.buf, this.sink.pos, w)
  }

  /** flush_bits: emits the pending bits, padding the last byte with 1s, and empties the buffer. */
  flush(): void {
    let n = 32 - this.free
    const s = this.sink
    s.ensure(10)
    while (n >= 8) {
      n -= 8
      const byte = (this.acc >>> n) & 0xff
      s.buf[s.pos++] = byte
      if (byte === 0xff) s.buf[s.pos++] = 0
    }
    if (n > 0) {
      const byte = ((this.acc << (8 - n)) | (0xff >> n)) & 0xff
      s.buf[s.pos++] = byte
      if (byte === 0xff) s.buf[s.pos++] = 0
    }
    this.acc = 0
    this.free = 32
  }
}

/**
 * Writes a full 32-bit word of entropy-coded bits with 0xFF stuffing; returns the new position. Kept separate
 * and tiny so the JIT inlines it into the block loop.
 */
export function putWord(b: Uint8Array, p: number, w: number): number {
  const b0 = w >>> 24,
    b1 = (w >>> 16) & 0xff,
    b2 = (w >>> 8) & 0xff,
    b3 = w & 0xff
  b[p++] = b0
  if (b0 === 0xff) b[p++] = 0
  b[p++] = b1
  if (b1 === 0xff) b[p++] = 0
  b[p++] = b2
  if (b2 === 0xff) b[p++] = 0
  b[p++] = b3
  if (b3 === 0xff) b[p++] = 0
  return p
}

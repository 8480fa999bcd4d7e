import t from 'tap'
import { STD_AC_CHROMA, STD_AC_LUMA, STD_DC_LUMA, deriveCodes, optimalTable } from '../../shared/codec/huffman'
import { rng } from './helpers'

t.test('standard tables derive the Annex K.3 codes', async (t) => {
  const dc = deriveCodes(STD_DC_LUMA)
  t.same([dc.code[0], dc.size[0]], [0b00, 2])
  t.same([dc.code[1], dc.size[1]], [0b010, 3])
  t.same([dc.code[11], dc.size[11]], [0b111111110, 9])
  const ac = deriveCodes(STD_AC_LUMA)
  t.same([ac.code[0x00], ac.size[0x00]], [0b1010, 4], 'EOB')
  t.same([ac.code[0xf0], ac.size[0xf0]], [0b11111111001, 11], 'ZRL')
  t.same([ac.code[0x01], ac.size[0x01]], [0b00, 2])
  t.equal(deriveCodes(STD_AC_CHROMA).size[0x00], 2)
  t.throws(
    () =>
      deriveCodes({
        bits: Uint8Array.of(0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        huffval: Uint8Array.of(1, 2, 3),
      }),
    /too many codes of length 1/,
  )
})

function kraft(bits: Uint8Array): number {
  let s = 0
  for (let l = 1; l <= 16; l++) s += bits[l] / 2 ** l
  return s
}

t.test('optimal tables: prefix-free, never all-ones, lengths ≤ 16 even for skewed counts', async (t) => {
  const r = rng(3)
  for (const skew of [1, 2, 30]) {
    const freq = new Float64Array(257)
    for (let s = 0; s < 200; s++) freq[s] = s % 3 === 0 ? 0 : Math.floor(1 + r() ** (skew > 2 ? 4 : 1) * skew)
    const used = Array.from(freq.subarray(0, 256)).filter((v) => v > 0).length
    const tbl = optimalTable(freq.slice())
    t.equal(tbl.huffval.length, used, 'every used symbol has a code')
    t.ok(kraft(tbl.bits) < 1, `Kraft sum ${kraft(tbl.bits)} < 1 (all-ones code reserved)`)
    t.doesNotThrow(() => deriveCodes(tbl))
  }
  // Fibonacci counts force code lengths past 16 without the limiting step.
  const fib = new Float64Array(257)
  let a = 1,
    b = 1
  for (let s = 0; s < 40; s++) {
    fib[s] = a
    ;[a, b] = [b, a + b]
  }
  const tbl = optimalTable(fib)
  t.equal(tbl.bits.length, 17)
  t.equal(tbl.huffval.length, 40)
  t.ok(kraft(tbl.bits) <= 1)
})

t.test('optimal table for two symbols', async (t) => {
  const f = new Float64Array(257)
  f[0] = 10
  f[5] = 3
  const tbl = optimalTable(f)
  t.same([...tbl.huffval], [0, 5])
  t.equal(tbl.bits[1] + tbl.bits[2], 2)
})

import t from 'tap'
import { execFileSync } from 'node:child_process'
import { scanBytes } from '../../shared/deepn/scan-bytes'

t.test('scan length of a cjpeg file equals file minus headers minus EOI', async (t) => {
  // 16x16 gray PGM through the real cjpeg
  const w = 16
  const pix = Buffer.alloc(w * w)
  for (let i = 0; i < pix.length; i++) pix[i] = (i * 37) & 0xff
  const pgm = Buffer.concat([Buffer.from(`P5 ${w} ${w} 255\n`), pix])
  for (const args of [
    ['-quality', '90'],
    ['-quality', '50', '-restart', '1B'],
  ]) {
    const jpg = new Uint8Array(execFileSync('cjpeg', [...args, '-grayscale'], { input: pgm }))
    // locate SOS by walking segments independently of the implementation under test
    let i = 2
    while (!(jpg[i] === 0xff && jpg[i + 1] === 0xda)) i += 2 + ((jpg[i + 2] << 8) | jpg[i + 3])
    const sosEnd = i + 2 + ((jpg[i + 2] << 8) | jpg[i + 3])
    t.equal(scanBytes(jpg), jpg.length - 2 - sosEnd, args.join(' '))
  }
})

t.test('refuses non-JPEG and scan-less input', async (t) => {
  t.throws(() => scanBytes(new Uint8Array([1, 2, 3, 4])), /missing SOI/)
  t.throws(() => scanBytes(new Uint8Array([0xff, 0xd8, 0xff, 0xd9])), /no scan/)
  const jpg = new Uint8Array(
    execFileSync('cjpeg', ['-grayscale'], { input: Buffer.concat([Buffer.from('P5 8 8 255\n'), Buffer.alloc(64, 9)]) }),
  )
  t.throws(
    () => scanBytes(jpg.subarray(0, jpg.length - 1)),
    /truncated JPEG: scan data starting at byte \d+ runs to the end without EOI/,
    'a cut file is not measured',
  )
})

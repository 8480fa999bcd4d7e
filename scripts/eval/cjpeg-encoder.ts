/**
 * libjpeg-turbo's cjpeg as an alternative encoder for the eval (`--encoder cjpeg`): a cross-check that our
 * encoder's rate–accuracy numbers are not an artefact of our implementation. One process per image: slow.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { EncodeOptions, RawImage } from '../../shared/codec/types'
import type { Encoder } from './evaluate'

export function cjpegEncoder(): Encoder {
  const dir = mkdtempSync(join(tmpdir(), 'deepn-cjpeg-'))
  const qfile = join(dir, 'q.txt')
  let lastTables = ''
  return (img: RawImage, opts: EncodeOptions) => {
    if (img.format !== 'gray' && img.format !== 'rgb')
      throw new Error(`cjpeg encoder: format ${img.format} not supported`)
    const magic = img.format === 'gray' ? 'P5' : 'P6'
    const pnm = Buffer.concat([Buffer.from(`${magic} ${img.width} ${img.height} 255\n`), img.data])
    const args = ['-dct', 'int', '-sample', opts.subsampling === '444' ? '1x1' : '2x2']
    if (img.format === 'gray') args.push('-grayscale')
    if (opts.tables) {
      const text = `${[opts.tables.luma, opts.tables.chroma]
        .map((t) =>
          Array.from({ length: 8 }, (_, r) =>
            Array.from(t)
              .slice(r * 8, r * 8 + 8)
              .join(' '),
          ).join('\n'),
        )
        .join('\n\n')}\n`
      if (text !== lastTables) {
        writeFileSync(qfile, text)
        lastTables = text
      }
      args.push('-baseline', '-qtables', qfile, '-qslots', '0,1')
    } else args.push('-quality', String(opts.quality ?? 75))
    return new Uint8Array(
      execFileSync('cjpeg', args, { input: pnm, maxBuffer: 1 << 26, stdio: ['pipe', 'pipe', 'ignore'] }),
    )
  }
}

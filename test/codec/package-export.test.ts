/** `deepn-edge/codec` resolves through package.json `exports` to the built codec (npm test builds dist/ first). */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'

const root = resolve(__dirname, '../..')

t.test(
  'the exported codec encodes a JPEG djpeg reads',
  { skip: !existsSync(resolve(root, 'dist/shared/codec/index.js')) && 'dist/ not built: run npm run build' },
  async (t) => {
    const script = `const { encodeJpeg } = require('deepn-edge/codec')
const data = new Uint8Array(17 * 9 * 3).map((_, i) => (i * 37) & 255)
process.stdout.write(Buffer.from(encodeJpeg({ width: 17, height: 9, data, format: 'rgb' }, { quality: 80 })))`
    const jpeg = execFileSync(process.execPath, ['-e', script], { cwd: root })
    t.same([...jpeg.subarray(0, 2)], [0xff, 0xd8], 'starts with SOI')
    const ppm = execFileSync('djpeg', ['-pnm'], { input: jpeg }).toString('latin1')
    t.match(ppm, /^P6\s+17 9\s+255\s/, 'djpeg decodes it at the right size')
  },
)

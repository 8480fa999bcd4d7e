/**
 * The layering rules the linter enforces (biome.json), tried on a scratch tree laid out like ours: shared/ may not
 * import agent/ or scripts/, node: I/O modules or timers; agent/ may not import scripts/ (agent/cli.ts, the lazy
 * dispatcher, may); no import cycles anywhere. `npm test` runs the same linter over the real tree.
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { packagePath } from '../../agent/package-root'

const BIOME = packagePath('node_modules', '.bin', 'biome')

function lint(files: Record<string, string>): { code: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'deepn-lint-'))
  try {
    copyFileSync(packagePath('biome.json'), join(dir, 'biome.json'))
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true })
      writeFileSync(join(dir, name), text)
    }
    const r = spawnSync(BIOME, ['lint', '--max-diagnostics=50', '.'], { cwd: dir, encoding: 'utf8' })
    return { code: r.status, out: `${r.stdout}${r.stderr}` }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

t.test('clean layering passes', async (t) => {
  const r = lint({
    'shared/codec/a.ts': "import { b } from './b'\nexport const a = (): number => b + 1\n",
    'shared/codec/b.ts': 'export const b = 1\n',
    'agent/run.ts': "import { a } from '../shared/codec/a'\nexport const run = (): number => a()\n",
    'agent/cli.ts': "export const load = (): unknown => require('../scripts/tool')\n",
    'scripts/tool.ts': "import { run } from '../agent/run'\nexport const tool = (): number => run()\n",
  })
  t.equal(r.code, 0, r.out)
})

t.test('shared/ importing agent/ or scripts/, I/O or timers is refused', async (t) => {
  const r = lint({
    'agent/log.ts': 'export const log = (): void => {}\n',
    'scripts/x.ts': 'export const x = 1\n',
    'shared/bad.ts':
      "import { readFileSync } from 'node:fs'\nimport { log } from '../agent/log'\nimport { x } from '../scripts/x'\nexport const bad = (): unknown => [readFileSync, log, x, setTimeout(() => {}, 1)]\n",
  })
  t.not(r.code, 0)
  t.equal(r.out.match(/lint\/style\/noRestrictedImports/g)?.length, 3, 'node:fs, ../agent and ../scripts')
  t.match(r.out, /lint\/style\/noRestrictedGlobals/, 'setTimeout')
})

t.test('agent/ importing scripts/ is refused outside the dispatcher', async (t) => {
  const r = lint({
    'scripts/tool.ts': 'export const tool = 1\n',
    'agent/pipeline/x.ts': "import { tool } from '../../scripts/tool'\nexport const x = tool\n",
  })
  t.not(r.code, 0)
  t.match(r.out, /agent\/pipeline\/x\.ts.*lint\/style\/noRestrictedImports/)
})

t.test('an import cycle is refused', async (t) => {
  const r = lint({
    'agent/a.ts': "import { b } from './b'\nexport const a = (): number => b()\n",
    'agent/b.ts': "import { a } from './a'\nexport const b = (): number => a()\n",
  })
  t.not(r.code, 0)
  t.match(r.out, /lint\/suspicious\/noImportCycles/)
})

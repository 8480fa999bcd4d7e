import t from 'tap'
import { defaults, SCHEMA, type AgentConfig, type PushedTable } from '../../shared/config'

// AgentConfig is derived from SCHEMA (shared/config/types.ts). These assertions are checked by the type-check of
// the tests (`npx tsc -p test/tsconfig.json`): a derivation that loses a key, a section or an enum value fails there.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const typeChecks: true[] = [
  true satisfies Equal<
    keyof AgentConfig,
    | 'deviceId'
    | 'delivery'
    | 'ackTimeoutMs'
    | 'mqtt'
    | 'capture'
    | 'encoder'
    | 'buffer'
    | 'telemetry'
    | 'homeassistant'
    | 'log'
  >,
  true satisfies Equal<AgentConfig['homeassistant'], { enabled: boolean; prefix: string }>,
  true satisfies Equal<AgentConfig['delivery'], 'puback' | 'e2e-ack'>,
  true satisfies Equal<AgentConfig['capture']['source'], 'synthetic' | 'files' | 'raspistill' | 'rpicam'>,
  true satisfies Equal<AgentConfig['mqtt']['key'], string>,
  true satisfies Equal<AgentConfig['buffer']['maxBytes'], number>,
  true satisfies Equal<AgentConfig['encoder']['optimizeHuffman'], boolean>,
  true satisfies Equal<AgentConfig['encoder']['progressive'], boolean>,
  true satisfies Equal<AgentConfig['encoder']['tables'], Record<string, PushedTable>>,
  true satisfies Equal<AgentConfig['log'], { level: 'debug' | 'info' | 'warn' | 'error' }>,
]
// @ts-expect-error not a key of the schema
const noSuchKey: AgentConfig['capture']['fps'] = 1

t.test('the derived AgentConfig has exactly the schema keys, nested by section', async (t) => {
  t.equal(typeChecks.length, 10)
  t.equal(noSuchKey, 1)
  const c: AgentConfig = defaults()
  const leaves = (o: object, prefix = ''): string[] =>
    Object.entries(o).flatMap(([k, v]) =>
      typeof v === 'object' && v !== null && k !== 'tables' ? leaves(v, `${prefix}${k}.`) : [prefix + k],
    )
  t.same(leaves(c).sort(), SCHEMA.map((s) => s.key).sort())
})

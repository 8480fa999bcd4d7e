/**
 * A runtime without WebAssembly SIMD encodes on the TypeScript path (same bytes, several times slower): the agent
 * says so once in its log at start, and telemetry's `encoderKernel` reads the same switch (wasm-kernel.test.ts).
 */
import t from 'tap'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createAgent } from '../../agent/commands/run'
import { loadLocalConfig } from '../../agent/config-file'
import { createLogger } from '../../agent/log'
import { codecKernels, encoderKernel, setWasmKernelEnabled } from '../../shared/codec/wasm/kernels'

// Before any test switches the kernels off.
const simd = codecKernels() !== null

async function startLines(t: tap.Test, id: string): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'deepn-fallback-'))
  const lines: string[] = []
  const env = { DEEPN_MQTT_URL: 'mqtt://127.0.0.1:9', DEEPN_DEVICE_ID: id, DEEPN__BUFFER__PATH: join(dir, 'buffer.db') }
  const agent = createAgent(loadLocalConfig({ env }), createLogger({ level: 'warn', write: (l) => lines.push(l) }))
  t.teardown(() => agent.stop())
  await agent.start()
  return lines
}

t.test('without SIMD the start log says once that encoding runs on the TypeScript path', async (t) => {
  setWasmKernelEnabled(false)
  t.teardown(() => setWasmKernelEnabled(true))
  t.equal(encoderKernel(), 'typescript')
  const lines = await startLines(t, 'nosimd')
  t.equal(
    lines.filter((l) => /no WebAssembly SIMD; encoding on the TypeScript path/.test(l)).length,
    1,
    'one warning line',
  )
})

t.test('with SIMD there is no such line', { skip: simd ? false : 'no WebAssembly SIMD in this runtime' }, async (t) => {
  t.equal(encoderKernel(), 'wasm-simd')
  const lines = await startLines(t, 'simd')
  t.notMatch(lines.join('\n'), /no WebAssembly SIMD/)
})

/**
 * The one behaviour suite every SavedConfigStore implementation must pass. `factory` returns a fresh, empty store.
 */
import type { Test } from 'tap'
import type { SavedConfigStore } from '../../agent/saved-config/store'

export function savedConfigSuite(t: Test, factory: () => SavedConfigStore): void {
  t.test('nothing saved: load gives undefined', async (t) => {
    t.equal(factory().load(), undefined)
  })

  t.test('save replaces the record, remote layer and version together', async (t) => {
    const s = factory()
    s.save({ remote: { capture: { width: 80 } }, version: 1 })
    s.save({
      remote: {
        capture: { width: 96 },
        encoder: { table: 'pushed', tables: { pushed: { luma: [1, 2], chroma: [3] } } },
      },
      version: 2,
    })
    t.same(s.load(), {
      remote: {
        capture: { width: 96 },
        encoder: { table: 'pushed', tables: { pushed: { luma: [1, 2], chroma: [3] } } },
      },
      version: 2,
    })
  })

  t.test('the store keeps its own copy: changing what was saved or loaded changes nothing', async (t) => {
    const s = factory()
    const remote = { log: { level: 'debug' } }
    s.save({ remote, version: 1 })
    remote.log.level = 'error'
    const loaded = s.load()!
    ;(loaded.remote.log as { level: string }).level = 'warn'
    t.same(s.load(), { remote: { log: { level: 'debug' } }, version: 1 })
  })

  t.test('bad input fails with an error naming the field, and keeps what was saved', async (t) => {
    const s = factory()
    s.save({ remote: {}, version: 3 })
    t.throws(() => s.save({ remote: {}, version: -1 }), /version must be an integer >= 0/)
    t.throws(() => s.save({ remote: {}, version: 1.5 }), /version must be an integer >= 0/)
    t.throws(
      () => s.save({ remote: [] as unknown as Record<string, unknown>, version: 4 }),
      /remote must be a JSON object, got an array/,
    )
    t.throws(
      () => s.save({ remote: null as unknown as Record<string, unknown>, version: 4 }),
      /remote must be a JSON object/,
    )
    t.throws(
      () => s.save(undefined as unknown as { remote: Record<string, unknown>; version: number }),
      /must be an object/,
    )
    t.same(s.load(), { remote: {}, version: 3 })
  })
}

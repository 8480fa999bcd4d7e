/**
 * The synthetic camera keeps its optimized drawing code across the full collection the agent runs after every
 * large frame (agent/pipeline/reclaim.ts). When the row drawer was a closure made per frame, each collection
 * dropped its optimized code and every frame began in the interpreter again: about 1 MB of boxed numbers per
 * 1080p frame, which kept V8's young generation at full size in the agent. V8's sampling heap profiler, told to
 * keep objects that died, counts what the drawing allocates.
 */
import t from 'tap'
import { Session } from 'node:inspector'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { SyntheticSource } from '../../agent/capture/synthetic'

interface ProfileNode {
  callFrame: { url: string }
  selfSize: number
  children: ProfileNode[]
}

function post<T>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) =>
    session.post(method, params, (err, res) => (err ? reject(err) : resolve(res as T))),
  )
}

/** Bytes allocated by functions of agent/capture/synthetic in the profile's tree. */
function syntheticBytes(node: ProfileNode): number {
  let sum = /\/capture\/synthetic\.[jt]s/.test(node.callFrame.url) ? node.selfSize : 0
  for (const c of node.children) sum += syntheticBytes(c)
  return sum
}

t.test('1080p frames drawn between full collections allocate next to nothing', async (t) => {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  const session = new Session()
  session.connect()
  t.teardown(() => session.disconnect())
  for (const format of ['yuv420p', 'rgb'] as const) {
    const source = new SyntheticSource(1920, 1080, format)
    const frame = async (): Promise<void> => {
      source.release(await source.capture())
      gc()
    }
    for (let i = 0; i < 10; i++) await frame() // warm up: optimize the drawing code
    await post(session, 'HeapProfiler.startSampling', {
      samplingInterval: 1024,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    })
    const frames = 10
    for (let i = 0; i < frames; i++) await frame()
    const { profile } = await post<{ profile: { head: ProfileNode } }>(session, 'HeapProfiler.stopSampling')
    const perFrame = syntheticBytes(profile.head) / frames
    t.ok(perFrame < 256 * 1024, `${format}: ${Math.round(perFrame / 1024)} KB of heap per frame`)
  }
})

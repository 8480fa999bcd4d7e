/** An in-process aedes broker (MQTT 3.1.1 only: it refuses MQTT 5, which exercises the agent's fallback). */
import { createServer, type Server } from 'node:net'

export async function startAedes(port = 0): Promise<{ port: number; url: string; close(): Promise<void> }> {
  const { Aedes } = require('aedes') as typeof import('aedes')
  const broker = await Aedes.createBroker()
  const srv: Server = createServer(broker.handle)
  await new Promise<void>((resolve) => srv.listen(port, '127.0.0.1', resolve))
  const p = (srv.address() as { port: number }).port
  return {
    port: p,
    url: `mqtt://127.0.0.1:${p}`,
    close: () =>
      new Promise<void>((resolve) => {
        broker.close(() => srv.close(() => resolve()))
      }),
  }
}

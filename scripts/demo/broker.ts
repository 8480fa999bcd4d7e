/** The demo's in-process MQTT broker (aedes) on 127.0.0.1, used when no broker URL is configured. */
import { createServer, type Server } from 'node:net'
import { errorMessage } from '../../agent/log'

/** The in-process broker; closed again if it cannot listen, so a failed start leaves no timer or socket behind. */
export async function startBroker(port: number | undefined): Promise<{ port: number; close(): Promise<void> }> {
  const { Aedes } = require('aedes') as typeof import('aedes')
  const broker = await Aedes.createBroker()
  const closeBroker = (): Promise<void> => new Promise((res) => broker.close(() => res()))
  const listen = (p: number): Promise<Server> =>
    new Promise((res, rej) => {
      const srv = createServer(broker.handle)
      srv.once('error', rej)
      srv.listen(p, '127.0.0.1', () => res(srv))
    })
  let srv: Server
  try {
    try {
      srv = await listen(port ?? 1883)
    } catch (err) {
      if (port !== undefined) throw err
      srv = await listen(0) // 1883 is taken (a local Mosquitto?): any free port
    }
  } catch (err) {
    await closeBroker()
    const code = (err as NodeJS.ErrnoException).code
    const why =
      code === 'EADDRINUSE' ? 'the port is in use' : code === 'EACCES' ? 'permission denied' : errorMessage(err)
    throw new Error(
      `cannot listen on 127.0.0.1:${port ?? 1883}: ${why} (pick another --port, or --port 0 for any free one)`,
    )
  }
  return {
    port: (srv.address() as { port: number }).port,
    close: () =>
      new Promise((res) => {
        broker.close(() => srv.close(() => res()))
      }),
  }
}

/**
 * `deepn receive`: the reference backend (see scripts/backend/receive/receiver.ts). Runs until SIGINT/SIGTERM, then
 * finishes the frame being written, sends pending acks and disconnects.
 */
import { parseReceiveArgs, USAGE } from './options'
import { startReceiver } from './receiver'
import { startDashboard } from './dashboard'

export async function main(argv: string[]): Promise<number> {
  const opts = parseReceiveArgs(argv)
  if (opts === 'help') {
    console.log(USAGE)
    return 0
  }
  const receiver = await startReceiver(opts)
  let dashboard
  try {
    dashboard = opts.http && (await startDashboard({ receiver, ...opts.http }))
  } catch (err) {
    await receiver.close()
    throw new Error(`--http ${opts.http!.host}:${opts.http!.port}: ${(err as Error).message}`)
  }
  if (dashboard)
    process.stderr.write(`[receive] dashboard on ${dashboard.url}${opts.http!.token ? ' (token required)' : ''}\n`)
  const signalled = new Promise<undefined>((resolve) => {
    const stop = (sig: NodeJS.Signals) => {
      process.stderr.write(`[receive] ${sig}: finishing\n`)
      resolve(undefined)
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  // A refused login is a configuration error: retrying cannot fix it, so stop with the reason (as mosquitto_sub).
  const failure = await Promise.race([signalled, receiver.failed])
  await dashboard?.close()
  await receiver.close()
  if (failure) throw failure
  return 0
}

/**
 * `deepn receive`: the reference backend (see scripts/backend/receive/receiver.ts). Runs until SIGINT/SIGTERM, then
 * finishes the frame being written, sends pending acks and disconnects.
 */
import { parseReceiveArgs, USAGE } from './options'
import { startReceiver } from './receiver'

export async function main(argv: string[]): Promise<number> {
  const opts = parseReceiveArgs(argv)
  if (opts === 'help') {
    console.log(USAGE)
    return 0
  }
  const receiver = await startReceiver(opts)
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
  await receiver.close()
  if (failure) throw failure
  return 0
}

import { type Receiver, type ReceiverOptions, startReceiver } from '../backend/receive/receiver'

/** Things started so far, stopped in reverse order whether the demo ends normally or fails half-way. */
export class Teardown {
  private readonly steps: Array<() => Promise<unknown>> = []
  add(step: () => Promise<unknown>): void {
    this.steps.push(step)
  }
  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) await step().catch(() => undefined)
  }
}

/**
 * The reference receiver for a demo, stopped by `teardown`, once it is subscribed. `failed` rejects if the
 * receiver fails later: a demo races it against its own end.
 */
export async function startDemoReceiver(
  opts: ReceiverOptions,
  teardown: Teardown,
): Promise<{ receiver: Receiver; failed: Promise<never> }> {
  const receiver = await startReceiver(opts)
  teardown.add(() => receiver.close())
  const failed = receiver.failed.then((err): never => {
    throw err
  })
  failed.catch(() => undefined)
  await Promise.race([receiver.subscribed, failed])
  return { receiver, failed }
}

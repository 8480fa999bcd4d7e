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

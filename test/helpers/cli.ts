/** Runs the `deepn` dispatcher in-process and captures what it prints: exit code, stdout and stderr lines. */
import { dispatch } from '../../agent/cli'

export async function runCli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [],
    err: string[] = []
  const log = console.log,
    error = console.error
  console.log = (...a: unknown[]) => {
    out.push(a.join(' '))
  }
  console.error = (...a: unknown[]) => {
    err.push(a.join(' '))
  }
  try {
    const code = await dispatch(argv)
    return { code, out: out.join('\n'), err: err.join('\n') }
  } finally {
    console.log = log
    console.error = error
  }
}

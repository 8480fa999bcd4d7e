/**
 * The one command-line convention every `deepn` command follows: a usage error (bad option, missing value, bad
 * number) is a `UsageError` and exits 2; any other failure exits 1; every message is one line prefixed
 * `deepn <command>: `. Commands throw; the dispatcher (agent/cli.ts) formats and picks the exit code, so no command
 * has its own special case.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'

/** A bad command line: the message says what is wrong and how to fix it; exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/** Exit status for a failure: 2 for a usage or configuration error (the user must change what they typed), else 1. */
export function exitCodeFor(err: unknown): 1 | 2 {
  // ConfigError (shared/config) by name: importing the config schema here would load it into every command
  return err instanceof UsageError || (err instanceof Error && err.name === 'ConfigError') ? 2 : 1
}

/** The one line printed for a failure of `deepn <command>`. Never a stack trace or a multi-line library dump. */
export function failureLine(command: string, err: unknown): string {
  const message = (err instanceof Error ? err.message : String(err)).trim().split('\n')[0]
  // a bad command line points at the options; a bad config file's message already names the key to fix
  const hint = err instanceof UsageError ? ` (see 'deepn help ${command}')` : ''
  return `deepn ${command}: ${message}${hint}`
}

/**
 * node:util parseArgs (strict), with its messages rephrased as UsageErrors: "unknown option '--x'", "--x needs a
 * value", "--x takes no value", "unexpected argument 'y'". Raw parseArgs texts ("argument is ambiguous. Did you
 * forget…") explain the parser, not the command.
 */
export function parseOptions<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    // strict is parseArgs' default; ParseArgsConfig leaves it to the caller, and every command keeps it on
    return parseArgs(config)
  } catch (err) {
    throw rephrase(err, [...(config.args ?? [])])
  }
}

function rephrase(err: unknown, args: string[]): Error {
  const e = err as NodeJS.ErrnoException
  if (typeof e?.code !== 'string' || !e.code.startsWith('ERR_PARSE_ARGS_')) return e
  const options = [...e.message.matchAll(/(?<![\w-])(--?[A-Za-z][\w-]*)/g)].map((m) => m[1])
  const option = options.find((o) => o.startsWith('--')) ?? options[0] ?? '?'
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`unknown option '${option}'`)
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL': {
      const arg = /'([^']*)'/.exec(e.message)?.[1] ?? args.find((a) => !a.startsWith('-')) ?? '?'
      return new UsageError(`unexpected argument '${arg}'`)
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(e.message)) return new UsageError(`${option} takes no value`)
      if (/ambiguous/.test(e.message)) return new UsageError(`${option} needs a value (write ${option}=-VALUE for a value that starts with '-')`)
      return new UsageError(`${option} needs a value`)
    default:
      return new UsageError(e.message.split('\n')[0])
  }
}

/**
 * The one command-line convention every `deepn` command follows: a usage error (bad option, missing value, bad
 * number) is a `UsageError` and exits 2; any other failure exits 1; every message is one line prefixed
 * `deepn <command>: ` and ends with a pointer to the command's --help. Commands throw; the dispatcher (agent/cli.ts)
 * formats and picks the exit code, so no command has its own special case. Every command reads its argv with
 * parseOptions and its values with numberOption / numberListOption / choiceOption, so the same mistake reads the
 * same in every command ("--x must be an integer >= 1, got '0'").
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'

/** A bad command line: the message says what is wrong and how to fix it; exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError'
  /** The (sub)command whose --help the hint points at ("tables build"), when more precise than the command. */
  command?: string
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
  const hint = err instanceof UsageError ? ` (see 'deepn ${err.command ?? command} --help')` : ''
  return `deepn ${command}: ${message}${hint}`
}

/** Runs a subcommand's main, so that its usage errors point at `deepn <subcommand> --help`. */
export async function subcommand<T>(name: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    if (err instanceof UsageError) err.command ??= name
    throw err
  }
}

export interface NumberRule {
  /** Smallest allowed value (inclusive). */
  min?: number
  /** Largest allowed value (inclusive). */
  max?: number
  /** Values must be above this (exclusive): `positive` is `{ above: 0 }`. */
  above?: number
  integer?: boolean
}

/**
 * A number option's value: undefined when the option was not given, else the number, or a UsageError
 * "<name> must be <rule>, got '<value>'" (one phrasing for every command).
 */
export function numberOption(name: string, raw: string | undefined, rule: NumberRule = {}): number | undefined {
  if (raw === undefined) return undefined
  const n = raw.trim() === '' ? NaN : Number(raw)
  const ok =
    Number.isFinite(n) &&
    (!rule.integer || Number.isSafeInteger(n)) &&
    (rule.min === undefined || n >= rule.min) &&
    (rule.max === undefined || n <= rule.max) &&
    (rule.above === undefined || n > rule.above)
  if (!ok) throw new UsageError(`${name} must be ${describe(rule)}, got '${raw}'`)
  return n
}

/** A comma-separated list of positive numbers ("--scales 0.5,1,2"), or undefined when the option was not given. */
export function numberListOption(name: string, raw: string | undefined): number[] | undefined {
  if (raw === undefined) return undefined
  const out = raw.split(',').map((v) => (v.trim() === '' ? NaN : Number(v)))
  if (out.some((n) => !Number.isFinite(n) || n <= 0))
    throw new UsageError(`${name} must be a comma-separated list of positive numbers, got '${raw}'`)
  return out
}

/** One of a fixed set of words ("--dct islow|ifast"), or undefined when the option was not given. */
export function choiceOption<C extends string>(
  name: string,
  raw: string | undefined,
  choices: readonly C[],
): C | undefined {
  if (raw === undefined) return undefined
  if ((choices as readonly string[]).includes(raw)) return raw as C
  const words = choices.length > 1 ? `${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1]}` : choices[0]
  throw new UsageError(`${name} must be ${words}, got '${raw}'`)
}

function describe(rule: NumberRule): string {
  const kind = rule.integer ? 'an integer' : 'a number'
  if (rule.above === 0 && rule.min === undefined && rule.max === undefined)
    return rule.integer ? 'a positive integer' : 'a positive number'
  const parts: string[] = []
  if (rule.min !== undefined && rule.max !== undefined) parts.push(`in ${rule.min}..${rule.max}`)
  else if (rule.min !== undefined) parts.push(`>= ${rule.min}`)
  else if (rule.max !== undefined) parts.push(`<= ${rule.max}`)
  if (rule.above !== undefined) parts.push(`above ${rule.above}`)
  return parts.length ? `${kind} ${parts.join(' and ')}` : kind
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
  // "Option '-o, --output <value>' argument missing": name the spelling the user typed
  const option =
    options.find((o) => args.some((a) => a === o || a.startsWith(`${o}=`))) ??
    options.find((o) => o.startsWith('--')) ??
    options[0] ??
    '?'
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`unknown option '${option}'`)
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL': {
      const arg = /'([^']*)'/.exec(e.message)?.[1] ?? args.find((a) => !a.startsWith('-')) ?? '?'
      return new UsageError(`unexpected argument '${arg}'`)
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(e.message)) return new UsageError(`${option} takes no value`)
      if (/ambiguous/.test(e.message))
        return new UsageError(`${option} needs a value (write ${option}=-VALUE for a value that starts with '-')`)
      return new UsageError(`${option} needs a value`)
    default:
      return new UsageError(e.message.split('\n')[0])
  }
}

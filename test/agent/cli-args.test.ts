/**
 * The value helpers every command reads its options with: one phrasing "<option> must be <rule>, got '<value>'",
 * a UsageError (exit 2), undefined when the option was not given; and the --help pointer of a subcommand.
 */
import t from 'tap'
import {
  choiceOption,
  failureLine,
  numberListOption,
  numberOption,
  parseOptions,
  subcommand,
  UsageError,
} from '../../agent/cli-args'

t.test('numberOption: the rule in words, the value as typed', async (t) => {
  t.equal(numberOption('--n', undefined, { min: 1 }), undefined, 'not given')
  t.equal(numberOption('--n', '2.5', { above: 0 }), 2.5)
  t.equal(numberOption('--n', '0', { integer: true, min: 0, max: 9 }), 0)
  const cases: Array<[string, Parameters<typeof numberOption>[2], RegExp]> = [
    ['0', { above: 0 }, /^--n must be a positive number, got '0'$/],
    ['1.5', { integer: true, above: 0 }, /^--n must be a positive integer, got '1\.5'$/],
    ['x', { integer: true, min: 1 }, /^--n must be an integer >= 1, got 'x'$/],
    ['', { min: 0 }, /^--n must be a number >= 0, got ''$/],
    [' ', { min: 0 }, /got ' '$/],
    ['11', { min: 0, max: 10 }, /^--n must be a number in 0\.\.10, got '11'$/],
    ['Infinity', {}, /^--n must be a number, got 'Infinity'$/],
    ['1e400', { max: 5 }, /^--n must be a number <= 5, got '1e400'$/],
    ['9007199254740993', { integer: true, min: 0 }, /must be an integer >= 0/],
  ]
  for (const [raw, rule, re] of cases) {
    const err = (() => {
      try {
        numberOption('--n', raw, rule)
      } catch (e) {
        return e
      }
    })()
    t.ok(err instanceof UsageError, `${JSON.stringify(raw)}: a UsageError`)
    t.match((err as Error | undefined)?.message, re, `${JSON.stringify(raw)} ${JSON.stringify(rule)}`)
  }
})

t.test('numberListOption and choiceOption', async (t) => {
  t.same(numberListOption('--q', '50,75,100'), [50, 75, 100])
  t.equal(numberListOption('--q', undefined), undefined)
  for (const raw of ['', '1,,2', '1,-2', 'a'])
    t.throws(() => numberListOption('--q', raw), /^--q must be a comma-separated list of positive numbers, got '/, raw)
  t.equal(choiceOption('--dct', 'ifast', ['islow', 'ifast'] as const), 'ifast')
  t.equal(choiceOption('--dct', undefined, ['islow', 'ifast'] as const), undefined)
  t.throws(
    () => choiceOption('--dct', 'float', ['islow', 'ifast'] as const),
    /^--dct must be islow or ifast, got 'float'$/,
  )
  t.throws(() => choiceOption('--p', '4', ['auto', '5', '3.1.1'] as const), /^--p must be auto, 5 or 3\.1\.1, got '4'$/)
})

t.test('parser messages name the spelling typed; subcommand errors point at their own --help', async (t) => {
  const options = { output: { type: 'string', short: 'o' } } as const
  t.throws(() => parseOptions({ args: ['-o'], options }), /^-o needs a value$/)
  t.throws(() => parseOptions({ args: ['--output'], options }), /^--output needs a value$/)
  const err = await subcommand('tables build', async () => {
    throw new UsageError('--x is wrong')
  }).catch((e: unknown) => e)
  t.equal(failureLine('tables', err), "deepn tables: --x is wrong (see 'deepn tables build --help')")
  t.equal(failureLine('run', new UsageError('--y is wrong')), "deepn run: --y is wrong (see 'deepn run --help')")
  t.equal(
    failureLine('run', new Error('disk full\nat somewhere')),
    'deepn run: disk full',
    'other errors: first line, no hint',
  )
})

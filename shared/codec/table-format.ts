/**
 * The one layout of a table file on disk (tables build, tables optimize, calibrate): JSON as people read it, each
 * 64-entry matrix printed as 8 rows of 8 so the zig-zag structure is visible and diffs stay small.
 */
export function formatTableJson(value: unknown): string {
  const text = JSON.stringify(
    value,
    (_k, v: unknown) => {
      if (Array.isArray(v) && v.length === 64 && v.every((x) => typeof x === 'number')) {
        return `\u0000${Array.from({ length: 8 }, (_, r) => (v as number[]).slice(r * 8, r * 8 + 8).join(', ')).join(',\n')}\u0000`
      }
      return v
    },
    2,
  )
  // re-indent the placeholder strings into real arrays at the indentation of their key
  return `${text.replace(/^( *)(.*)"\\u0000([^"]*)\\u0000"/gm, (_m, ind: string, key: string, body: string) => {
    const rows = body
      .split('\\n')
      .map((r) => `${ind}  ${r}`)
      .join('\n')
    return `${ind}${key}[\n${rows}\n${ind}]`
  })}\n`
}

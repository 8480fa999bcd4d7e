/**
 * What a test leaves open to play a killed process (a store never closed). A dead process's descriptors are closed
 * by its exit, not by garbage collection, which Node warns about (DEP0137) and will one day refuse: they are kept
 * reachable here until this test process exits.
 */
const abandoned: unknown[] = []

export function abandon<T>(x: T): T {
  abandoned.push(x)
  return x
}

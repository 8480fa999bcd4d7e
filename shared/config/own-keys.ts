/**
 * Ids that come from outside (config keys, table ids, device ids) must never index a plain object directly: a plain
 * object answers every Object.prototype name (`constructor`, `toString`, `hasOwnProperty`, …) with an inherited
 * function, and assigning to `__proto__` replaces the object's prototype instead of storing anything. So lookups go
 * through `ownValue`, writes through `setOwn`, and ids naming Object.prototype properties are refused where ids are
 * accepted (`isPrototypeName`). Pure.
 */

const PROTOTYPE_NAMES: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype))

/** True for `constructor`, `__proto__`, `toString`, … : names every plain object already answers. */
export function isPrototypeName(id: string): boolean {
  return PROTOTYPE_NAMES.has(id)
}

/** `obj[key]` if `obj` itself holds `key`; never an inherited member. */
export function ownValue<T>(obj: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined
}

/** Stores `obj[key] = value` as an own property, even for `__proto__` (where `=` would replace the prototype). */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true })
}

// Checking that a value survives JSON unchanged, with the path of what doesn't.

/**
 * Throws a `TypeError` naming the path of the first part of `value` that JSON
 * would drop or change: functions, `undefined`, symbols, bigints, non-finite
 * numbers, class instances (Date, Map, …) and cycles.
 */
export function assertJson(value: unknown, path: string): void {
  // Most values are primitives, with no parents to track: no array for
  // them (check() pushes onto it only for an object).
  check(value, path, typeof value === "object" ? [] : NO_PARENTS);
}

const NO_PARENTS: object[] = [];

function check(value: unknown, path: string, parents: object[]): void {
  switch (typeof value) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (Number.isFinite(value)) return;
      throw refuse(path, `${value} is not JSON`);
    case "object": {
      if (value === null) return;
      if (parents.includes(value)) {
        throw refuse(path, "it contains itself (a cycle) and is not JSON");
      }
      parents.push(value);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (!(i in value)) {
            throw refuse(`${path}.${i}`, "an empty array slot is not JSON");
          }
          check(value[i], `${path}.${i}`, parents);
        }
      } else {
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) {
          const name = (value as { constructor?: { name?: string } })
            .constructor?.name;
          throw refuse(path, `${name || "a class instance"} is not JSON`);
        }
        for (const key of Object.keys(value)) {
          check(
            (value as Record<string, unknown>)[key],
            `${path}.${key}`,
            parents,
          );
        }
        if (Object.getOwnPropertySymbols(value).length > 0) {
          throw refuse(path, "symbol keys are not JSON");
        }
      }
      parents.pop();
      return;
    }
    default:
      throw refuse(path, `${typeof value} is not JSON`);
  }
}

function refuse(path: string, why: string): TypeError {
  return new TypeError(`Cannot store "${path}": ${why}`);
}

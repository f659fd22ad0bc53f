/** The compiler proves this unreachable; reaching it at run time means a union grew a new member. */
export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}

/** Pins each entry's runtime names (`expected[entry]`, in any order), one home per name, and package.json's exports. */
export function describePublicSurface<E extends string>(
  packageDir: URL,
  entries: Readonly<Record<E, object>>,
  expected: Readonly<Record<E, readonly string[]>>,
): void

/** The README's text and its `<!-- readme-example -->` code blocks, in order. */
export function readmeExamples(packageDir: URL): { readme: string; examples: string[] }
/** Runs one example with Node and tsx from the package directory. */
export function runExample(
  packageDir: URL,
  source: string,
  name?: string,
): { stdout: string; stderr: string; status: number | null }

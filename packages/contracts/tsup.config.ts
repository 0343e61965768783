import { packageBuild } from '../../tsup.package.js'

// The sandbox's worker thread starts from its own entry point, built next to index.js.
export default { ...packageBuild(), entry: { index: 'src/index.ts', 'sandbox-worker': 'src/sandbox/sandbox-worker.ts' } }

import { packageBuild } from '../../tsup.package.js'

// The root and its documented subpaths (package.json `exports`): ./engine, ./wire.
export default packageBuild({ entry: ['src/index.ts', 'src/engine.ts', 'src/wire.ts'] })

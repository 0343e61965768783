import { packageBuild } from '../../tsup.package.js'

// The root and its documented subpaths (package.json `exports`): ./round, ./hierarchy, ./acs.
export default packageBuild({ entry: ['src/index.ts', 'src/round.ts', 'src/hierarchy.ts', 'src/acs.ts'] })

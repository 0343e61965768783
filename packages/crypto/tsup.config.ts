import { packageBuild } from '../../tsup.package.js'

// The optional native backend is imported lazily at run time, never bundled.
export default packageBuild({ external: ['sodium-native'] })

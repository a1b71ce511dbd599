import { createPackageAssets } from '../../src/adapters/files/package-assets.adapter.js'
import { packageRoot } from '../../src/composition/package-root.js'

/** The real packaged prompts, schemas and starter assets, as the composition root provides them. */
export const packageAssets = createPackageAssets(packageRoot())

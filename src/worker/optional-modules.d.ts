// The native tfjs backends are optional dependencies and usually absent (their install
// downloads libtensorflow). Declared here so the dynamic imports in backend.ts type-check
// whether or not they are installed; only `version` is used.
declare module '@tensorflow/tfjs-node-gpu' {
  export const version: Record<string, string>
}
declare module '@tensorflow/tfjs-node' {
  export const version: Record<string, string>
}

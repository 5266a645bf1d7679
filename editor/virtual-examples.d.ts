// The bundled examples, read from examples/*/*.policy at build time
// (scripts/build-playground.mjs provides this module).
declare module "virtual:examples" {
  export const EXAMPLES: readonly { readonly name: string; readonly files: readonly { readonly name: string; readonly text: string }[] }[];
}

/** The product's registrations, captured once per process from the Azure entry file (package.json "main"). */
import type { FunctionDeps, LazyDeps } from '../../functions/deps';
import { captureRegistrations, type CapturedFunction } from './functions-core';

/** Loaded by path at run time: a static import would register the functions before the stand-in is in place. */
const AZURE_ENTRY: string = '../../functions/index';

export interface ProductApp {
  /** Every function `functions/index.ts` registers through `app.*` and `df.app.*`, as Azure's worker receives them. */
  functions: CapturedFunction[];
  /** The dependencies those functions' handlers use (the entry file's `dependencies`). */
  dependencies: LazyDeps<FunctionDeps>;
}

let product: Promise<ProductApp> | undefined;

export const productApp = (): Promise<ProductApp> =>
  (product ??= (async () => {
    let entry: { dependencies?: LazyDeps<FunctionDeps> } = {};
    const functions = await captureRegistrations(async () => {
      entry = (await import(AZURE_ENTRY)) as typeof entry;
    });
    if (!entry.dependencies) throw new Error(`${AZURE_ENTRY} does not export its dependencies`);
    return { functions, dependencies: entry.dependencies };
  })());

export const productRegistrations = async (): Promise<CapturedFunction[]> => (await productApp()).functions;

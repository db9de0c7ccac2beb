/** The product's registrations, captured once per process from the Azure entry file (package.json "main"). */
import { captureRegistrations, type CapturedFunction } from './functions-core';

/** Loaded by path at run time: a static import would register the functions before the stand-in is in place. */
const AZURE_ENTRY: string = '../../functions/index';

let product: Promise<CapturedFunction[]> | undefined;

/** Every function `functions/index.ts` registers through `app.*` and `df.app.*`, as Azure's worker receives them. */
export const productRegistrations = (): Promise<CapturedFunction[]> =>
  (product ??= captureRegistrations(() => import(AZURE_ENTRY)));

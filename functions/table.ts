import type { FunctionDefinition } from './definition';
import type { FunctionDeps } from './deps';
import { health } from './health';

/** Every function of the product. Both hosts register exactly this list. */
export const functionTable: readonly FunctionDefinition<FunctionDeps>[] = [health];

// `npm run lint` (second half): checks the import layering in .dependency-cruiser.cjs with dependency-cruiser's API.
// The `depcruise` command refuses to start on Node 20 (its package.json engines say ^22||^24||>=26, checked by the
// CLI only), while this project supports Node >=20.19, so the rules are run through the API, which works on both.
import { join, resolve } from 'node:path';

export const LAYER_RULES_FILE = join(__dirname, '..', '.dependency-cruiser.cjs');
/** The folders whose imports are checked; the rules decide what each of them may import. */
export const CHECKED_ROOTS = ['shared', 'functions', 'local', 'scripts'];

export interface LayerViolation {
  rule: string;
  from: string;
  to: string;
  /** For a cycle: the modules it goes through, starting after `from`. */
  cycle: string[];
  /** The rule's one-line reason, from its comment. */
  why: string;
}

/** Cruises `roots` (paths relative to `baseDir`) with the repository's rules and returns every violation found. */
export async function findLayerViolations(baseDir: string, roots: string[] = CHECKED_ROOTS): Promise<LayerViolation[]> {
  // dependency-cruiser is ECMAScript-only; this file is CommonJS, so it is loaded with import().
  const { cruise } = await import('dependency-cruiser');
  const { default: extractDepcruiseOptions } = await import('dependency-cruiser/config-utl/extract-depcruise-options');
  const options = await extractDepcruiseOptions(LAYER_RULES_FILE);
  const result = await cruise(roots, { ...options, baseDir: resolve(baseDir), outputType: 'json' });
  const output = typeof result.output === 'string' ? (JSON.parse(result.output) as unknown) : result.output;
  const summary = (output as { summary: { violations: CruiseViolation[] } }).summary;
  const reasons = new Map((options.ruleSet?.forbidden ?? []).map((rule) => [rule.name, rule.comment ?? '']));
  return summary.violations.map((violation) => ({
    rule: violation.rule.name,
    from: violation.from,
    to: violation.to,
    cycle: (violation.cycle ?? []).map((step) => step.name),
    why: reasons.get(violation.rule.name) ?? '',
  }));
}

interface CruiseViolation {
  rule: { name: string };
  from: string;
  to: string;
  cycle?: { name: string }[];
}

export function describeViolation(violation: LayerViolation): string {
  const through = violation.cycle.length > 0 ? ` (cycle: ${[violation.from, ...violation.cycle].join(' → ')})` : '';
  return `${violation.rule}: ${violation.from} → ${violation.to}${through}`;
}

if (require.main === module) {
  const projectRoot = join(__dirname, '..');
  findLayerViolations(projectRoot).then(
    (violations) => {
      for (const violation of violations) console.error(`${describeViolation(violation)}\n  why: ${violation.why}`);
      if (violations.length > 0) {
        console.error(`${violations.length} layering violation(s); the rules are in .dependency-cruiser.cjs`);
        process.exitCode = 1;
      } else console.log(`layers: no violations in ${CHECKED_ROOTS.join(', ')}`);
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}

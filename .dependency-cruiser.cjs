// Layering rules, checked by `npm run lint` (scripts/check-layers.ts) and proven to bite by test/lint/layers.test.ts.
//
// Layers, each importing only from the ones below it (peers in one layer may import each other unless a rule says no):
//   top         local/, scripts/          hosts and tools: may import anything in functions/ and shared/
//   functions   functions/                thin trigger edges
//   sync        shared/sync/              composes the services below into the export
//   services    shared/queue/, shared/destinations/, shared/state/
//   foundation  shared/dataverse/, shared/schema/, shared/storage/, shared/orchestration/ (port to Durable Functions),
//               shared/telemetry/azure-monitor.ts (the exporter's start-up, an adapter signing in like storage)
//   settings    shared/config/, shared/profile/, shared/security/policy.ts: what the app is configured to do.
//               Below foundation because storage clients are built from config's StorageSettings, and below services
//               because state reads a default from config. The profile describes destination targets, so settings
//               may import the destinations' config shapes (shared/destinations/*/config.ts, plain zod schemas that
//               import only the leaves), and nothing else above them.
//   support     shared/telemetry/, shared/security/hosts.ts, shared/security/client-principal.ts, shared/health.ts
//   leaves      shared/errors.ts, shared/percent-encoding.ts
// Paths are relative to the cruise's base directory, so the same rules apply to the synthetic trees of the test.

const SERVICES = '^shared/(queue|destinations|state)/';
const DESTINATION_CONFIG_SHAPES = '^shared/destinations/[^/]+/config[.]ts$';
const SETTINGS = '^shared/(config/|profile/|security/policy[.]ts$)';
// The Azure Monitor exporter is an adapter like storage (it signs in through storage/credentials.ts), not support.
const FOUNDATION = '^shared/((dataverse|schema|storage|orchestration)/|telemetry/azure-monitor[.]ts$)';
const SUPPORT =
  '^shared/(telemetry/(?!azure-monitor[.]ts$)|security/hosts[.]ts$|security/client-principal[.]ts$|health[.]ts$)';
const LEAVES = '^shared/(errors|percent-encoding)[.]ts$';
const OURS = '^(shared|functions|local|test|scripts)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A module may not import itself through others: a cycle makes load order and layering undefined.',
      severity: 'error',
      from: { path: '^(shared|functions|local)/' },
      to: { circular: true },
    },
    {
      name: 'shared-not-to-functions-local-test',
      comment:
        'shared/ is the core the edges call; it must not import the edges (functions/), the local host or tests.',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: '^(functions|local|test|scripts)/' },
    },
    {
      name: 'functions-not-to-local-test',
      comment:
        'functions/ is what Azure runs; the local host, scripts and tests are not deployed, so it cannot use them.',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: '^(local|test|scripts)/' },
    },
    {
      name: 'functions-not-to-state',
      comment: 'Functions are thin edges: they reach stored state through shared/sync, never shared/state directly.',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: '^shared/state/' },
    },
    {
      name: 'queue-not-to-sync',
      comment:
        'shared/queue carries messages for shared/sync; the message shapes live in queue, so queue never imports sync.',
      severity: 'error',
      from: { path: '^shared/queue/' },
      to: { path: '^shared/sync/' },
    },
    {
      name: 'state-not-to-sync',
      comment: 'shared/state stores what shared/sync decides; it must not import the layer that uses it.',
      severity: 'error',
      from: { path: '^shared/state/' },
      to: { path: '^shared/sync/' },
    },
    {
      name: 'destinations-not-to-sync-or-state',
      comment: 'Destinations only write rows: orchestration (sync) and bookkeeping (state) stay out of them.',
      severity: 'error',
      from: { path: '^shared/destinations/' },
      to: { path: '^shared/(sync|state)/' },
    },
    {
      name: 'settings-not-to-upper-layers',
      comment: 'config/profile/security policy are read by every layer above; of those they import only config shapes.',
      severity: 'error',
      from: { path: SETTINGS },
      to: { path: `^shared/sync/|${SERVICES}|${FOUNDATION}`, pathNot: DESTINATION_CONFIG_SHAPES },
    },
    {
      name: 'destination-config-shapes-are-leaves',
      comment: 'Destination config shapes are imported by the profile, so they may import only the leaves (no cycles).',
      severity: 'error',
      from: { path: DESTINATION_CONFIG_SHAPES },
      to: { path: OURS, pathNot: LEAVES },
    },
    {
      name: 'foundation-not-to-upper-layers',
      comment: 'dataverse/schema/storage/orchestration are what sync and the services build on; never the reverse.',
      severity: 'error',
      from: { path: FOUNDATION },
      to: { path: `^shared/sync/|${SERVICES}` },
    },
    {
      name: 'support-not-to-domain',
      comment:
        'telemetry/security hosts/health are used everywhere, so they may import only each other and the leaves.',
      severity: 'error',
      from: { path: SUPPORT },
      to: { path: OURS, pathNot: `${SUPPORT}|${LEAVES}` },
    },
    {
      name: 'leaves-import-nothing-of-ours',
      comment:
        'errors.ts and percent-encoding.ts are the bottom layer: they import no other project module but each other.',
      severity: 'error',
      from: { path: LEAVES },
      to: { path: OURS, pathNot: LEAVES },
    },
  ],
  options: {
    // Type-only imports count: a layer that needs another's types depends on it just as much.
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
    // The project uses relative imports only, so plain resolution with the TypeScript extensions is enough.
    enhancedResolveOptions: { extensions: ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.json'] },
  },
};

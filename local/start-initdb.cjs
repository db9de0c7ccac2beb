// Creates an embedded PostgreSQL (PGlite) data directory and exits. `npm start` runs this initdb in a child
// process of its own (local/start-services.ts): in the npm start process, initdb's WebAssembly memory and
// file-system bundle (about 350 MB) stayed resident until V8 happened to collect them.
process.on('disconnect', () => process.exit(1));
const { PGlite } = require('@electric-sql/pglite');

// Arguments: the folder, then PGlite's start parameters (shared/destinations/sql/pglite-connection.ts).
const [dataDir, ...startParams] = process.argv.slice(2);
const db = new PGlite({ dataDir, ...(startParams.length > 0 ? { startParams } : {}) });
db.waitReady
  .then(() => db.close())
  .then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );

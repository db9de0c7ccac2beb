// Creates an embedded PostgreSQL (PGlite) data directory and exits. `npm start` runs this initdb in a child
// process of its own (local/start-services.ts): in the npm start process, initdb's WebAssembly memory and
// file-system bundle (about 350 MB) stayed resident until V8 happened to collect them.
process.on('disconnect', () => process.exit(1));
const { PGlite } = require('@electric-sql/pglite');

const db = new PGlite(process.argv[2]);
db.waitReady
  .then(() => db.close())
  .then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );

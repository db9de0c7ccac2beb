// Runs Azurite inside a child that exits as soon as its parent's IPC channel closes, so a crashed or
// killed parent (even SIGKILL) never leaves an orphaned Azurite behind.
process.on('disconnect', () => process.exit(0));
require('azurite/dist/src/azurite.js');

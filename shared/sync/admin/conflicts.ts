/**
 * A conditional write lost to another writer (ETag mismatch). The state stores throw it; the HTTP edge answers
 * 412 with it (functions/http.ts), reaching it here rather than in storage/.
 */
export { WriteConflict } from '../../storage/errors';

// Every data call goes to the admin API with its own checks. Locally the function key the admin pasted is sent
// as the x-functions-key header (never in a URL, which servers and proxies log); in Azure the App Service
// Authentication session cookie goes along too, since the console is served from the same origin.
const KEY = 'dvx-function-key';
const base = new URL('../', document.baseURI);

export const signedIn = () => sessionStorage.getItem(KEY) !== null;
export const signIn = (key) => sessionStorage.setItem(KEY, key);
export const signOut = () => sessionStorage.removeItem(KEY);

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `The API answered ${status}`);
    this.status = status;
    this.problems = body?.error?.problems ?? [];
    this.fix = body?.error?.fix;
  }
}

/** Calls `/api/<path>`; resolves to the parsed body, rejects with an ApiError carrying the API's problems. */
export async function api(method, path, body) {
  const headers = { 'x-functions-key': sessionStorage.getItem(KEY) ?? '' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(new URL(path, base), {
    method,
    headers,
    credentials: 'same-origin',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (response.status === 401) window.dispatchEvent(new Event('dvx-unauthorized'));
  // Health answers 503 with its report when a dependency fails: that is data, not an error.
  if (!response.ok && !(response.status === 503 && parsed?.dependencies)) throw new ApiError(response.status, parsed);
  return parsed;
}

export const describeError = (error) =>
  error instanceof ApiError
    ? [error.message, ...error.problems.map((p) => `${p.field}: ${p.reason}`), error.fix].filter(Boolean).join(' — ')
    : String(error?.message ?? error);

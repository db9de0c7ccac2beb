/** Percent-decoding for text from outside (URLs, links, connection strings), which may not be valid encoding. */
export function decodeOrKeep(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * What `npm start` does to the terminal and how it fits it: lines wrapped to its width (80 columns when unknown,
 * e.g. piped), and on every way out (Ctrl-C, an error) the cursor shown again and line wrap switched back on,
 * since the progress bars hide the one and switch off the other.
 */

/** DECTCEM "show cursor" and DECAWM "autowrap on" (xterm control sequences, `CSI ? 25 h` and `CSI ? 7 h`). */
export const RESTORE_TERMINAL = '\x1b[?25h\x1b[?7h';

/**
 * Set to 1 to write the terminal's control sequences even when stdout is no terminal (tests read them from a pipe).
 */
export const FORCE_TERMINAL_CONTROL = 'DVX_TERMINAL_CONTROL';

export interface TerminalStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export function controlsTerminal(stream: TerminalStream, env: Record<string, string | undefined>): boolean {
  return stream.isTTY === true || env[FORCE_TERMINAL_CONTROL] === '1';
}

/** Shows the cursor and turns line wrap back on, when this process controls a terminal; a no-op otherwise. */
export function restoreTerminal(stream: TerminalStream, env: Record<string, string | undefined>): void {
  if (controlsTerminal(stream, env)) stream.write(RESTORE_TERMINAL);
}

export const terminalColumns = (stream: TerminalStream): number =>
  stream.columns && stream.columns > 20 ? stream.columns : 80;

/** Wraps `text` at spaces so no line is wider than `width`; continuation lines start with `indent`. */
export function wrapWords(text: string, width: number, indent = ''): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const candidate = line === '' ? word : `${line} ${word}`;
    if (candidate.length > width && line.trim() !== '') {
      lines.push(line);
      line = `${indent}${word}`;
    } else line = candidate;
  }
  lines.push(line);
  return lines;
}

/** Joins `parts` with `separator` into as few lines as fit `width`; a part wider than the line gets its own. */
export function packParts(parts: string[], width: number, separator = ' | '): string[] {
  const lines: string[] = [];
  let line = '';
  for (const part of parts) {
    const candidate = line === '' ? part : `${line}${separator}${part}`;
    if (candidate.length > width && line !== '') {
      lines.push(line);
      line = `  ${part}`;
    } else line = candidate;
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** The one line Ctrl-C leaves behind: what stopped, and where the data stays. */
export function stoppedLine(stopped: string[], keptIn: string | undefined): string {
  const what = stopped.length > 0 ? stopped.join(', ') : 'nothing was running yet';
  return keptIn
    ? `Stopped: ${what}; data kept in ${keptIn} — run npm start again to continue`
    : `Stopped: ${what}; nothing was kept (this run had no data folder of its own)`;
}

/**
 * What the GitHub Actions runner obeys in a step's output, as its ActionCommandManager
 * reads it (actions/runner, src/Runner.Worker/ActionCommandManager.cs): lines split at
 * \n, \r\n or \r; a line is a command when, after leading whitespace, it is
 * `::name[ props]::data`, or when it holds a legacy `##[name…]`; between
 * `::stop-commands::TOKEN` and `::TOKEN::` none is obeyed.
 */
export function obeyedCommands(log: string): string[] {
  const obeyed: string[] = [];
  let stopToken: string | undefined;
  for (const raw of log.split(/\r\n|\r|\n/)) {
    const line = raw.trimStart();
    const v2 = /^::([^\s:]+)[^:]*::/.exec(line);
    const name = v2?.[1] ?? /##\[([^\s\]]+)/.exec(line)?.[1];
    if (name === undefined) continue;
    if (stopToken !== undefined) {
      if (name === stopToken) stopToken = undefined;
      continue;
    }
    if (name === 'stop-commands') stopToken = line.slice('::stop-commands::'.length);
    else obeyed.push(line);
  }
  return obeyed;
}

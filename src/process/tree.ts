import { readdirSync, readFileSync } from 'node:fs';

/**
 * Linux: the processes a child started, wherever they went. A process group holds only
 * those that stayed in it; one that called setsid() (a daemon, `setsid cmd`,
 * `start_new_session=True`) leaves it. So besides the group, this finds the leader's
 * descendants (parent links in /proc/<pid>/stat) and every process of this user whose
 * environment has the variable named `marker` (inherited across fork, exec and setsid).
 * What escapes all three: a process that dropped the marker from its environment
 * (`env -i`) AND whose parent is gone, or one that another user or the Docker daemon
 * runs. Elsewhere (macOS) this returns nothing and the group is all we reach.
 */
export function processesOf(leader: number, marker: string): number[] {
  const table = readProcTable();
  if (table === undefined) return [];
  const found = new Set<number>();
  const children = new Map<number, number[]>();
  for (const p of table) {
    if (p.pgrp === leader) found.add(p.pid);
    children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  }
  // The leader's descendants, those in a session of their own included.
  const seen = new Set<number>();
  const queue = [leader];
  while (queue.length > 0) {
    for (const child of children.get(queue.pop()!) ?? []) {
      if (seen.has(child)) continue;
      seen.add(child);
      found.add(child);
      queue.push(child);
    }
  }
  const needle = `\0${marker}=`;
  for (const p of table) {
    if (!found.has(p.pid) && environOf(p.pid)?.includes(needle)) found.add(p.pid);
  }
  found.delete(process.pid);
  // A zombie has ended: only its parent's wait() removes it, a signal changes nothing.
  const zombies = new Set(table.filter((p) => p.zombie).map((p) => p.pid));
  return [...found].filter((pid) => !zombies.has(pid));
}

/** Linux: the live processes of this user whose environment has the variable named `marker`; elsewhere none. */
export function markedProcesses(marker: string): number[] {
  const needle = `\0${marker}=`;
  return (readProcTable() ?? []).filter((p) => !p.zombie && p.pid !== process.pid && environOf(p.pid)?.includes(needle)).map((p) => p.pid);
}

interface ProcEntry {
  pid: number;
  ppid: number;
  pgrp: number;
  zombie: boolean;
}

function readProcTable(): ProcEntry[] | undefined {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const table: ProcEntry[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // `pid (comm) state ppid pgrp …`: comm may hold spaces and parentheses.
      const [state = '', ppid = '', pgrp = ''] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.push({ pid: Number(name), ppid: Number(ppid), pgrp: Number(pgrp), zombie: state === 'Z' });
    } catch {
      // Ended while we looked.
    }
  }
  return table;
}

/** `\0NAME=value\0…\0`, or undefined for a process of another user (EACCES) or one gone. */
function environOf(pid: number): string | undefined {
  try {
    return `\0${readFileSync(`/proc/${pid}/environ`, 'latin1')}`;
  } catch {
    return undefined;
  }
}

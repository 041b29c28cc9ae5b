/**
 * What `npm run bench:load` reads of the server from /proc (Linux): the process tree `next start`
 * runs as, its CPU ticks and RSS, its open file descriptors.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** `root` and every process under it. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // Gone meanwhile.
    }
  }
  const tree: number[] = [];
  const walk = (pid: number) => {
    tree.push(pid);
    for (const child of children.get(pid) ?? []) walk(child);
  };
  walk(root);
  return tree;
}

const TICKS_PER_SECOND = 100;

/** CPU time and RSS of some processes, summed. */
export function usage(pids: number[]): { cpuSeconds: number; rssMiB: number } {
  let ticks = 0;
  let rssKiB = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      rssKiB += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch {
      // Gone meanwhile.
    }
  }
  return { cpuSeconds: ticks / TICKS_PER_SECOND, rssMiB: rssKiB / 1024 };
}

/** Server CPU (% of one core) and peak RSS over a phase, sampled every 500 ms. */
export function watchServer(pids: () => number[]) {
  const start = usage(pids());
  const startedAt = performance.now();
  let peakRss = start.rssMiB;
  const timer = setInterval(() => {
    peakRss = Math.max(peakRss, usage(pids()).rssMiB);
  }, 500);
  return () => {
    clearInterval(timer);
    const end = usage(pids());
    const seconds = (performance.now() - startedAt) / 1000;
    return {
      cpuPercent: (100 * (end.cpuSeconds - start.cpuSeconds)) / seconds,
      rssMiB: Math.max(peakRss, end.rssMiB),
    };
  };
}

/** Open file descriptors of some processes, summed (sockets included). */
export function openFiles(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      total += readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      // Gone meanwhile.
    }
  }
  return total;
}

/** The `Max open files` soft limit of a process, as /proc/<pid>/limits shows it. */
export function openFilesLimit(pid: number | 'self'): string {
  try {
    const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
    return /Max open files\s+(\d+|unlimited)/.exec(limits)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

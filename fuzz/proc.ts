/** Reads a process' resident memory and open file descriptors from Linux's /proc. */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessSample {
  rssBytes: number;
  fds: number;
}

/** RSS (VmRSS of /proc/<pid>/status) and the entries of /proc/<pid>/fd; null once the process is gone. */
export function sampleProcess(pid: number): ProcessSample | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    const fds = readdirSync(`/proc/${pid}/fd`).length;
    return { rssBytes: rss ? Number(rss[1]) * 1024 : 0, fds };
  } catch {
    return null;
  }
}

export function mebibytes(bytes: number): string {
  return `${(bytes / 1048576).toFixed(0)} MB`;
}

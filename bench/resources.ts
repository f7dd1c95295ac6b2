// What the interfaces cost in memory and disk: the server's peak RSS during a run, Redis's
// used_memory, MariaDB's table sizes, the SQLite file.

import fs from 'node:fs';
import mysql from 'mysql2/promise';
import type { RedisServer } from '../test/servers/redis.ts';

const RSS_SAMPLE_MS = 250;
export const MB = 1024 * 1024;

/** VmRSS of `pid` in bytes, from /proc; undefined once the process is gone. */
function rssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples the RSS of `pid` every 250 ms until stop(), which returns the peak in MB. */
export function sampleRss(pid: number): { stop(): number } {
  let peak = rssBytes(pid) ?? 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssBytes(pid) ?? 0);
  }, RSS_SAMPLE_MS);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, rssBytes(pid) ?? 0);
      return peak / MB;
    },
  };
}

/** CPU seconds (user + system) `pid` has used so far; 0 once it is gone. Clock ticks are 1/100 s on Linux. */
function cpuSeconds(pid: number): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Measures how many cores each process used on average until stop(). */
export function sampleCpu(pids: Record<string, number | undefined>): { stop(): Record<string, number> } {
  const present = Object.entries(pids).filter((entry): entry is [string, number] => entry[1] !== undefined);
  const start = present.map(([, pid]) => cpuSeconds(pid));
  const started = performance.now();
  return {
    stop() {
      const seconds = (performance.now() - started) / 1000;
      return Object.fromEntries(present.map(([name, pid], i) => [name, (cpuSeconds(pid) - start[i]!) / seconds]));
    },
  };
}

/** Redis INFO memory `used_memory`, in bytes. */
export async function redisUsedMemory(redis: RedisServer): Promise<number> {
  const match = /^used_memory:(\d+)/m.exec(await redis.command('INFO', 'memory'));
  if (!match) throw new Error('Redis INFO memory has no used_memory line');
  return Number(match[1]);
}

/** Data + index length of a database's tables, in bytes, after fresh statistics (ANALYZE TABLE). */
export async function mariadbDataBytes(mariadbUrl: string): Promise<number> {
  const connection = await mysql.createConnection(mariadbUrl);
  try {
    const database = new URL(mariadbUrl).pathname.slice(1);
    const [tables] = await connection.query<mysql.RowDataPacket[]>(
      'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ?',
      [database],
    );
    if (tables.length > 0) await connection.query(`ANALYZE TABLE ${tables.map((t) => `\`${t.name}\``).join(', ')}`);
    const [rows] = await connection.query<mysql.RowDataPacket[]>(
      'SELECT COALESCE(SUM(data_length + index_length), 0) AS bytes FROM information_schema.tables WHERE table_schema = ?',
      [database],
    );
    return Number(rows[0]?.bytes ?? 0);
  } finally {
    await connection.end();
  }
}

/** Size of the SQLite database file with its journal or WAL, in bytes. */
export function sqliteFileBytes(file: string): number {
  return ['', '-journal', '-wal'].reduce((sum, suffix) => sum + (fs.statSync(`${file}${suffix}`, { throwIfNoEntry: false })?.size ?? 0), 0);
}

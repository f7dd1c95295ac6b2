// The intruder of `npm run test:hosts`: run on a test host of its own (hosts.test.ts), with the
// network's CA certificate (public) and nothing else, it tries to get into MariaDB and Redis and
// prints one JSON line per attempt: what it tried, whether it got in, and what it was told.
//
//   node test/hosts/intruder.ts '{"mariadb":"198.18.0.30:3306","redis":["198.18.0.21:7001",…],"ca":"/…/ca.crt"}'

import { readFileSync } from 'node:fs';
import mysql from 'mysql2/promise';
import { redisCommand } from '../servers/redis.ts';

export interface Attempt {
  attempt: string;
  gotIn: boolean;
  told: string;
}

const targets = JSON.parse(process.argv[2] ?? '{}') as { mariadb: string; redis: string[]; ca: string };
const ca = readFileSync(targets.ca);
const [dbHost, dbPort] = targets.mariadb.split(':') as [string, string];

async function tryMariadb(attempt: string, user: string, password: string, tls: boolean): Promise<Attempt> {
  try {
    const connection = await mysql.createConnection({ host: dbHost, port: Number(dbPort), user, password, connectTimeout: 5000, ...(tls ? { ssl: { ca } } : {}) });
    const [rows] = await connection.query('SELECT CURRENT_USER() AS user');
    await connection.end();
    return { attempt, gotIn: true, told: JSON.stringify(rows) };
  } catch (error) {
    return { attempt, gotIn: false, told: (error as Error).message };
  }
}

async function tryRedis(attempt: string, address: string, tls: boolean, args: string[]): Promise<Attempt> {
  const [host, port] = address.split(':') as [string, string];
  try {
    const reply = await redisCommand(Number(port), args, 5000, host, tls ? { tls: { ca } } : {});
    return { attempt, gotIn: true, told: reply };
  } catch (error) {
    return { attempt, gotIn: false, told: (error as Error).message };
  }
}

const attempts: Promise<Attempt>[] = [
  tryMariadb('MariaDB as root without a password, over TLS', 'root', '', true),
  tryMariadb('MariaDB as og with the password og (the old default), over TLS', 'og', 'og', true),
  tryMariadb('MariaDB as og with the password og, in plain text', 'og', 'og', false),
  tryMariadb('MariaDB as og_admin without a password, over TLS', 'og_admin', '', true),
];
for (const address of targets.redis) {
  const [host, port] = address.split(':') as [string, string];
  attempts.push(
    tryRedis(`Redis ${address}: PING in plain text`, address, false, ['PING']),
    tryRedis(`Redis ${address}: FLUSHALL in plain text`, address, false, ['FLUSHALL']),
    tryRedis(`Redis ${address}: PING over TLS without a client certificate`, address, true, ['PING']),
    tryRedis(`Redis ${address}: the cluster bus (port ${Number(port) + 10000}) over TLS without a client certificate`, `${host}:${Number(port) + 10000}`, true, ['PING']),
  );
}
for (const result of await Promise.all(attempts)) process.stdout.write(`${JSON.stringify(result)}\n`);

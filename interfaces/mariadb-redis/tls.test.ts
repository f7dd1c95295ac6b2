// TLS to MariaDB and Redis on real servers (one machine; over several hosts: npm run test:hosts):
// the interface works over it, refuses a server whose certificate another CA signed, cannot reach a
// MariaDB that requires TLS without it, and names no password in its errors.

import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, interfaceOptionsFrom } from '../../server/config.ts';
import { startMariadb, type MariadbServer } from '../../test/servers/mariadb.ts';
import { freePort, makeTempDir, removeTempDir } from '../../test/servers/process.ts';
import { startRedis, type RedisServer } from '../../test/servers/redis.ts';
import { issueCertificate, mariadbTlsArgs, redisTlsArgs, type Certificates } from '../../test/servers/tls.ts';
import { systemClock } from '../time.ts';
import { MariadbRedisInterface } from './index.ts';
import { redactUrl } from './tls.ts';

let dir: string;
let certs: Certificates;
/** A CA that signed nothing of these servers. */
let otherCa: string;
let mariadb: MariadbServer;
let redis: RedisServer;
let rediss: string;

beforeAll(async () => {
  dir = await makeTempDir('tls');
  certs = await issueCertificate(path.join(dir, 'ca'), 'localhost', ['127.0.0.1']);
  otherCa = (await issueCertificate(path.join(dir, 'other'), 'localhost', ['127.0.0.1'])).ca;
  const tlsPort = await freePort();
  [mariadb, redis] = await Promise.all([startMariadb({ extraArgs: mariadbTlsArgs(certs) }), startRedis({ extraArgs: redisTlsArgs(certs, tlsPort) })]);
  // Required from now on (the test server's own readiness check connects in plain text).
  await mariadb.query('SET GLOBAL require_secure_transport = ON');
  rediss = `rediss://127.0.0.1:${tlsPort}`;
}, 120_000);

afterAll(async () => {
  await Promise.all([mariadb?.stop(), redis?.stop()]);
  if (dir) await removeTempDir(dir);
});

describe('mariadb-redis over TLS', () => {
  it('stores and answers with TLS to both stores, each certificate verified against the CA', async () => {
    const data = await MariadbRedisInterface.open({ mariadbUrl: mariadb.url, redisUrl: rediss, keyPrefix: 'tls:', tls: { mariadb: { ca: certs.ca }, redis: { ca: certs.ca } } });
    try {
      const uuid = randomUUID();
      expect(await data.recordInitial({ uuid, symbol: 'e', guess: true, ts: systemClock() })).toEqual({ outcome: 'recorded' });
      await data.recordFollowup({ uuid, ts: systemClock() });
      expect(await data.symbolAggregate('e')).toMatchObject({ count: 1, followups: 1 });
    } finally {
      await data.close();
    }
  });

  it('refuses a MariaDB or a Redis whose certificate another CA signed', async () => {
    await expect(MariadbRedisInterface.open({ mariadbUrl: mariadb.url, redisUrl: rediss, tls: { mariadb: { ca: otherCa }, redis: { ca: certs.ca } } })).rejects.toThrow(/certificate/);
    await expect(MariadbRedisInterface.open({ mariadbUrl: mariadb.url, redisUrl: rediss, tls: { mariadb: { ca: certs.ca }, redis: { ca: otherCa } } })).rejects.toThrow(/certificate/);
  });

  it('cannot reach a MariaDB that requires TLS without it (the same user and password as above: MariaDB denies them without TLS)', async () => {
    await expect(MariadbRedisInterface.open({ mariadbUrl: mariadb.url, redisUrl: redis.url })).rejects.toThrow(/Access denied|insecure transport/);
  });

  it("names Redis's URL without its password in its errors", async () => {
    const url = rediss.replace('rediss://', 'rediss://og:hunter2-secret@');
    const error = (await MariadbRedisInterface.open({ mariadbUrl: mariadb.url, redisUrl: url, tls: { mariadb: { ca: certs.ca }, redis: { ca: otherCa } } }).catch((e: unknown) => e)) as Error;
    expect(error.message).toContain('rediss://og:***@127.0.0.1');
    expect(error.message).not.toContain('hunter2');
    expect(redactUrl('mysql://og:pw@db:3306/og')).toBe('mysql://og:***@db:3306/og');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });

  it('takes its files from MARIADB_TLS_CA and REDIS_TLS_*; refuses half a client certificate, and TLS files for a redis:// URL', async () => {
    expect(interfaceOptionsFrom({ MARIADB_TLS_CA: '/ca.crt', REDIS_TLS_CA: '/r.crt' }).tls).toEqual({ mariadb: { ca: '/ca.crt' }, redis: { ca: '/r.crt', cert: undefined, key: undefined } });
    expect(interfaceOptionsFrom({}).tls).toBeUndefined();
    expect(() => interfaceOptionsFrom({ REDIS_TLS_CERT: '/c.crt' })).toThrow(ConfigError);
    await expect(MariadbRedisInterface.open({ mariadbUrl: mariadb.url, redisUrl: redis.url, tls: { mariadb: { ca: certs.ca }, redis: { ca: certs.ca } } })).rejects.toThrow(/use a rediss:\/\/ URL/);
  });
});

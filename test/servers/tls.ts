// Certificates for test servers, made as a deployment makes them (provision/tls.sh: a CA, and a
// certificate of it per host), and the options that give MariaDB and Redis TLS with them.
//
//   const certs = await issueCertificate(dir, 'localhost', ['127.0.0.1']);
//   await startMariadb({ extraArgs: mariadbTlsArgs(certs) });
//   await startRedis({ extraArgs: redisTlsArgs(certs, tlsPort) });

import { execFile } from 'node:child_process';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const TLS_SH = path.resolve(import.meta.dirname, '..', '..', 'provision', 'tls.sh');

export interface Certificates {
  /** provision/tls.sh's folder: ca.crt, ca.key, NAME.crt, NAME.key. */
  dir: string;
  ca: string;
  cert: string;
  key: string;
}

/**
 * The CA of `dir` (made on first use) and a certificate of it for `name` at `addresses` (IPs or
 * names). `readableBy`: the key's owner (a server that runs as another user, e.g. mysql); default:
 * readable by all, for test servers whose user varies.
 */
export async function issueCertificate(dir: string, name: string, addresses: readonly string[], readableBy?: string): Promise<Certificates> {
  await promisify(execFile)('bash', [TLS_SH, dir, name, ...addresses], { timeout: 30_000 });
  await fsp.chmod(dir, 0o755);
  const [ca, cert, key] = ['ca.crt', `${name}.crt`, `${name}.key`].map((file) => path.join(dir, file)) as [string, string, string];
  if (readableBy) await promisify(execFile)('chown', [readableBy, key]);
  else await fsp.chmod(key, 0o644);
  return { dir, ca, cert, key };
}

/** mariadbd options: TLS offered on its port with these files (required too with `require`). */
export const mariadbTlsArgs = (certs: Certificates, require = false): string[] => [
  `--ssl-ca=${certs.ca}`,
  `--ssl-cert=${certs.cert}`,
  `--ssl-key=${certs.key}`,
  ...(require ? ['--require-secure-transport=ON'] : []),
];

/** redis-server options: TLS on `tlsPort` besides its plain port, no client certificate asked. */
export const redisTlsArgs = (certs: Certificates, tlsPort: number): string[] => [
  '--tls-port', String(tlsPort),
  '--tls-cert-file', certs.cert,
  '--tls-key-file', certs.key,
  '--tls-ca-cert-file', certs.ca,
  '--tls-auth-clients', 'no',
];

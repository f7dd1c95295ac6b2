// TLS to MariaDB and Redis where their traffic leaves a host: the files an operator points the
// server at, and the options the drivers (mysql2, ioredis) are given. The server's certificate is
// always verified against `ca`, and its name against the host the URL names (Redis: a name or an IP
// address among the certificate's subjectAltNames; MariaDB: a name only, mysql2 checks no IP
// address); there is no switch to turn that off.

import { readFileSync } from 'node:fs';

/** PEM files (paths). */
export interface TlsFiles {
  /** The CA that signed the server's certificate; unset: the system's CAs. */
  ca?: string;
  /** A client certificate and its key, for a server that asks for one (Redis's tls-auth-clients). */
  cert?: string;
  key?: string;
}

/** TLS per store: unset, none (MariaDB) or as the URL says (Redis: `rediss://`). */
export interface BackendTls {
  /** Set: every MariaDB connection is TLS, verified. */
  mariadb?: TlsFiles;
  /** Files for `rediss://` URLs (and Cluster nodes); a `redis://` URL with these is refused. */
  redis?: TlsFiles;
}

/** What both drivers take of Node's TLS options. */
export interface TlsOptions {
  rejectUnauthorized: true;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** The drivers' TLS options for `files`, read now (a missing file stops the start with its path). */
export function tlsOptions(files: TlsFiles): TlsOptions {
  if ((files.cert === undefined) !== (files.key === undefined)) throw new Error('a TLS client certificate needs its key, and a key its certificate: give both or neither');
  const read = (what: string, file: string | undefined) => {
    if (file === undefined) return undefined;
    try {
      return readFileSync(file);
    } catch (error) {
      throw new Error(`cannot read the TLS ${what} ${file}: ${(error as Error).message}`, { cause: error });
    }
  };
  const options: TlsOptions = { rejectUnauthorized: true };
  const ca = read('CA file', files.ca);
  const cert = read('certificate', files.cert);
  const key = read('key', files.key);
  if (ca) options.ca = ca;
  if (cert) options.cert = cert;
  if (key) options.key = key;
  return options;
}

/** `url` with its password replaced by `***`, fit for a log line or an error message. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an unparsable URL)';
  }
}

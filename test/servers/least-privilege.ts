// The service's least privileges as provisioning grants them (provision/redis-acl.txt and
// provision/mariadb-privileges.txt, also read by provision/service.sh), for tests that run the
// service under them.

import { readFileSync } from 'node:fs';
import path from 'node:path';

const PROVISION = path.resolve(import.meta.dirname, '..', '..', 'provision');

/** A provision file's text without its comment lines. */
const rulesOf = (file: string): string =>
  readFileSync(path.join(PROVISION, file), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .join(' ')
    .trim();

/** The Redis ACL rules of the service's user (without its name and password). */
export const serviceRedisRules = (): string => rulesOf('redis-acl.txt');

/** The privileges the service's MariaDB user has on its database (`SELECT, INSERT, …`). */
export const serviceMariadbPrivileges = (): string => rulesOf('mariadb-privileges.txt');

// `npm run test:vm`: `vagrant up` for real, end to end. Builds a Debian 12 box from Debian's packages
// (provision/vm/box.sh, cached), boots it under qemu, provisions it as the Vagrantfile says (its
// synced folder and its shell provisioners, in order, as Vagrant runs them), then checks from the
// host what a user would: the service answers on the forwarded port, the client's --verify run in
// the VM passes, the dashboards equal the raw events, the page shows them in the host's Chromium,
// and a restart, a kill -9 and a reboot keep every event and bring the service back by itself.
//
//   sudo npm run test:vm [-- --keep] [-- --accel kvm]
//
// Prints each step with its time and the total; on failure, the VM's console and service logs.
// Needs root (debootstrap), qemu-system-x86, debootstrap, openssh-client, rsync and Chromium:
// `bash provision/install.sh` installs them.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { LETTERS } from '../../interfaces/contract.ts';
import { CHROMIUM_PATH, collectPageErrors, launchChromium } from '../../server/page/chromium.ts';
import { readTable } from '../../server/page/letter-table.ts';
import { parseVagrantfile } from './vagrantfile.ts';
import { Vm } from './qemu.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BOX_SCRIPT = path.join(ROOT, 'provision/vm/box.sh');
const HOST_CA_DIR = '/usr/local/share/ca-certificates';
const APP_DIR = '/opt/vowel-analytics';
const UNIT = 'vowel-analytics';
/** What provision/service.sh makes: the passwords (root's), and the service's URLs with them. */
const SECRETS = '/etc/vowel-analytics/secrets';
const SERVICE_ENV = '/etc/vowel-analytics/service.env';

const { values: args } = parseArgs({
  options: {
    keep: { type: 'boolean', default: false },
    accel: { type: 'string', default: 'tcg' },
    cache: { type: 'string', default: '/var/cache/vowel-analytics-vm' },
  },
});
if (args.accel !== 'tcg' && args.accel !== 'kvm') throw new Error(`--accel ${args.accel}: use tcg or kvm`);

const started = Date.now();
const clock = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s`;

async function step<T>(name: string, work: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  console.log(`[${clock()}] ${name}`);
  const result = await work();
  console.log(`[${clock()}] ${name}: ok in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return result;
}

function expectEqual(actual: unknown, expected: unknown, what: string): void {
  if (!isDeepStrictEqual(actual, expected)) {
    throw new Error(`${what}:\n  expected ${JSON.stringify(expected)}\n  actual   ${JSON.stringify(actual)}`);
  }
}

// ------------------------------------------------------------------------------------------------
// The host

function checkHost(): void {
  if (process.getuid?.() !== 0) throw new Error('run as root (debootstrap and the box need it): sudo npm run test:vm');
  const missing = ['qemu-system-x86_64', 'debootstrap', 'mkfs.ext4', 'ssh', 'ssh-keygen', 'rsync'].filter((tool) => {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore', env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin` } });
      return false;
    } catch {
      return true;
    }
  });
  if (!existsSync(CHROMIUM_PATH)) missing.push('chromium');
  if (missing.length > 0) throw new Error(`${missing.join(', ')} not found: run \`bash provision/install.sh\` (or apt-get install qemu-system-x86 debootstrap openssh-client rsync chromium)`);
}

/** The box is rebuilt when its recipe or the host's extra CA certificates change. */
function boxDir(cache: string): string {
  const hash = createHash('sha256').update(readFileSync(BOX_SCRIPT));
  if (existsSync(HOST_CA_DIR)) for (const name of readdirSync(HOST_CA_DIR).sort()) hash.update(name).update(readFileSync(path.join(HOST_CA_DIR, name)));
  return path.join(cache, `box-${hash.digest('hex').slice(0, 16)}`);
}

async function buildBox(cache: string): Promise<string> {
  const dir = boxDir(cache);
  await mkdir(cache, { recursive: true });
  for (const name of readdirSync(cache)) {
    if (name.startsWith('box-') && path.join(cache, name) !== dir) await rm(path.join(cache, name), { recursive: true, force: true });
  }
  execFileSync('bash', [BOX_SCRIPT, dir], { stdio: 'inherit' });
  return dir;
}

// ------------------------------------------------------------------------------------------------
// What a user sees: the dashboards, the raw events

type Aggregate = { symbol: string; count: number; followups: number; earliest: string | null; latest: string | null };

interface Snapshot {
  symbols: Aggregate[];
  range: Aggregate[];
}

/**
 * One GET on a connection of its own (no keep-alive pool): a pooled socket whose far end died in a
 * restart or a reboot is not always closed through qemu's user network, and a request written to
 * it would wait for its whole timeout.
 */
function get(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, timeout: timeoutMs }, (response) => {
      response.setEncoding('utf8');
      let body = '';
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(Object.assign(new Error(`GET ${url}: no answer in ${timeoutMs / 1000} s`), { name: 'TimeoutError' })));
    request.on('error', reject);
  });
}

async function getJson(url: string): Promise<unknown> {
  const response = await get(url, 20_000);
  if (response.status !== 200) {
    const error = new Error(`GET ${url}: ${response.status} ${response.body}`);
    // A 503 says to come back (Retry-After): the service is mending, not wrong.
    if (response.status === 503) error.name = 'ServiceUnavailable';
    throw error;
  }
  return JSON.parse(response.body);
}

async function snapshot(base: string): Promise<Snapshot> {
  const symbols = await Promise.all(LETTERS.map((letter) => getJson(`${base}/dashboard/symbol/${letter}`) as Promise<Aggregate>));
  const range = (await getJson(`${base}/dashboard/range/1970-01-01/2200-01-01`)) as Aggregate[];
  return { symbols, range };
}

async function waitHealthy(base: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const response = await get(`${base}/healthz`, 5000);
      last = `${response.status} ${response.body}`;
      if (response.status === 200) return;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(1000);
  }
  throw new Error(`${base}/healthz did not answer 200 within ${timeoutMs / 1000} s (last: ${last})`);
}

/** Counts per letter from the raw events (NDJSON), as the dashboards must show them. */
function countRaw(ndjson: string): { events: number; perLetter: Map<string, { count: number; followups: number }> } {
  const symbolOf = new Map<string, string>();
  const perLetter = new Map(LETTERS.map((letter) => [letter as string, { count: 0, followups: 0 }]));
  let events = 0;
  for (const line of ndjson.split('\n')) {
    if (line === '') continue;
    const event = JSON.parse(line) as { type: string; uuid: string; symbol?: string };
    events++;
    if (event.type === 'initial') {
      symbolOf.set(event.uuid, event.symbol!);
      perLetter.get(event.symbol!)!.count++;
    } else {
      perLetter.get(symbolOf.get(event.uuid)!)!.followups++;
    }
  }
  return { events, perLetter };
}

// ------------------------------------------------------------------------------------------------
// The run

const vagrantfile = parseVagrantfile(readFileSync(path.join(ROOT, 'Vagrantfile'), 'utf8'));
let vm: Vm | undefined;
let runDir: string | undefined;
let failed = false;

try {
  checkHost();
  const box = await step('box: a Debian 12 image from Debian packages (cached)', () => buildBox(args.cache));
  runDir = path.join(args.cache, `run-${process.pid}`);
  const disk = path.join(runDir, 'disk.img');
  const consoleLog = path.join(runDir, 'console.log');
  await step("the VM's own disk, a copy of the box's", async () => {
    await mkdir(runDir!, { recursive: true });
    execFileSync('cp', ['--sparse=always', path.join(box, 'disk.img'), disk]);
  });
  vm = await Vm.create({
    boxDir: box,
    disk,
    memoryMb: vagrantfile.memoryMb,
    cpus: vagrantfile.cpus,
    guestPorts: [vagrantfile.guestPort],
    consoleLog,
    accel: args.accel,
  });
  const machine = vm;
  const base = `http://127.0.0.1:${machine.forwarded.get(vagrantfile.guestPort)}`;

  await step(`boot (qemu, ${args.accel}, ${vagrantfile.memoryMb} MB, ${vagrantfile.cpus} CPUs), until SSH answers`, () => machine.boot(300_000));

  await step(`hostname ${vagrantfile.hostname}, as Vagrant sets it`, () =>
    machine.run(`sudo hostnamectl set-hostname ${vagrantfile.hostname} && sudo sed -i 's/^127\\.0\\.1\\.1\\s.*/127.0.1.1\\t${vagrantfile.hostname}/' /etc/hosts`),
  );

  const { guestPath, excludes } = vagrantfile.syncedFolder;
  await step(`synced folder: the checkout to ${guestPath} with rsync, as Vagrant's rsync folder does`, async () => {
    await machine.run(`sudo mkdir -p ${guestPath} && sudo chown vagrant:vagrant ${guestPath}`);
    execFileSync(
      'rsync',
      [
        ...['--archive', '--delete', '--compress', '--copy-links', '--no-owner', '--no-group'],
        ...['--rsync-path', 'sudo rsync', '-e', machine.rsyncShell()],
        ...excludes.flatMap((exclude) => ['--exclude', exclude]),
        `${ROOT}/`,
        `vagrant@127.0.0.1:${guestPath}`,
      ],
      { stdio: 'inherit' },
    );
    await machine.run(`sudo find ${guestPath} '!' -type l -a '(' '!' -user vagrant -or '!' -group vagrant ')' -exec chown vagrant:vagrant '{}' +`);
  });

  for (const provisioner of vagrantfile.provisioners) {
    await step(`provision "${provisioner.name}": ${provisioner.path} ${provisioner.args}`.trimEnd(), async () => {
      // As Vagrant's shell provisioner: upload as the SSH user, then run under `sudo -E -H bash -l`.
      await machine.run('cat > /tmp/vagrant-shell', { input: await readFile(path.join(ROOT, provisioner.path), 'utf8') });
      const command = `chmod +x /tmp/vagrant-shell && /tmp/vagrant-shell${provisioner.args ? ` ${provisioner.args}` : ''}\n`;
      await machine.run('sudo -E -H bash -l', { input: command, echo: true, timeoutMs: 30 * 60_000 });
    });
  }

  await step(`the service answers on the forwarded port (${base})`, () => waitHealthy(base, 60_000));

  await step('the service runs as its own unprivileged user; MariaDB and Redis listen on loopback only', async () => {
    const cgroup = (await machine.run(`systemctl show -p ControlGroup --value ${UNIT}`)).trim();
    const users = (await machine.run(`ps -o user= -p "$(tr '\\n' ',' < /sys/fs/cgroup${cgroup}/cgroup.procs | sed 's/,$//')"`)).split('\n').filter(Boolean);
    if (users.length === 0 || users.some((user) => user !== UNIT)) throw new Error(`the service's processes run as ${users.join(', ')}, not only as ${UNIT}`);
    const [uid, shell] = (await machine.run(`getent passwd ${UNIT} | cut -d: -f3,7`)).trim().split(':');
    if (Number(uid) === 0 || Number(uid) >= 1000 || !shell?.endsWith('nologin')) throw new Error(`user ${UNIT}: uid ${uid}, shell ${shell}: not a system user without a login`);
    const listening = (await machine.run('sudo ss -Htln')).split('\n').filter(Boolean).map((line) => line.trim().split(/\s+/)[3]!);
    for (const port of [3306, 6379]) {
      const addresses = listening.filter((address) => address.endsWith(`:${port}`));
      const exposed = addresses.filter((address) => !/^(127\.0\.0\.1|\[::1\]):/.test(address));
      if (addresses.length === 0 || exposed.length > 0) throw new Error(`port ${port} listens on ${addresses.join(', ') || 'nothing'}: loopback only expected`);
    }
    console.log(`    ${users.length} processes as ${UNIT} (uid ${uid}, ${shell}); listening: ${listening.join(' ')}`);
  });

  // As an operator: Redis's admin, its password from the secrets file, in redis-cli's environment.
  const redisAsAdmin = (command: string) => machine.run(`sudo sh -c 'REDISCLI_AUTH=$(sed -n "s/^REDIS_ADMIN_PASSWORD=//p" ${SECRETS}) redis-cli --no-auth-warning --user admin ${command}'`);

  await step('the service uses the secrets made at provisioning: in no command line or log, the defaults refused, its users least privileged', async () => {
    const mode = (file: string) => machine.run(`sudo stat -c '%U:%G %a' ${file}`).then((text) => text.trim());
    expectEqual({ secrets: await mode(SECRETS), env: await mode(SERVICE_ENV) }, { secrets: 'root:root 600', env: `root:${UNIT} 640` }, 'the owners and modes of the secrets and the service environment file');
    const secrets = Object.fromEntries(
      (await machine.run(`sudo cat ${SECRETS}`))
        .split('\n')
        .filter((line) => line.includes('='))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    const passwords = ['MARIADB_PASSWORD', 'REDIS_PASSWORD', 'REDIS_ADMIN_PASSWORD'].map((name) => secrets[name] ?? '');
    if (!passwords.every((password) => /^[0-9a-f]{48}$/.test(password)) || new Set(passwords).size !== 3) throw new Error(`the secrets are not three random passwords: ${Object.keys(secrets).join(', ')}`);
    const [mariadbPassword, redisPassword] = passwords as [string, string];
    // The running service got them (its environment, as systemd gave it).
    const pid = (await machine.run(`systemctl show -p MainPID --value ${UNIT}`)).trim();
    const environ = await machine.run(`sudo cat /proc/${pid}/environ | tr '\\0' '\\n'`);
    expectEqual(
      { mariadb: environ.includes(`MARIADB_URL=mysql://og:${mariadbPassword}@127.0.0.1:3306/og`), redis: environ.includes(`REDIS_URL=redis://og:${redisPassword}@127.0.0.1:6379`) },
      { mariadb: true, redis: true },
      "the service's MARIADB_URL and REDIS_URL carry the generated passwords",
    );
    // No command line (ps) and no log line of the service holds a password.
    // (grep reads the passwords from the file: on its command line they would be found there.)
    const leaks = await machine.ssh(
      `sudo bash -c '{ for f in /proc/[0-9]*/cmdline; do tr "\\0" " " < "$f"; echo; done 2>/dev/null; journalctl -u ${UNIT} --no-pager -o cat; } | grep -c -F -f <(sed -n "s/^[A-Z_]*=//p" ${SECRETS})'`,
    );
    expectEqual(leaks.stdout.trim(), '0', 'command lines and service log lines holding a password');
    // The defaults are refused: og/og at MariaDB, Redis's default user; the service's users may not administer.
    const refused = async (command: string) => {
      const run = await machine.ssh(command);
      return `${run.code} ${run.stdout}${run.stderr}`.trim();
    };
    const told = {
      mariadbOgOg: await refused("MYSQL_PWD=og mariadb -h 127.0.0.1 -u og og -e 'SELECT 1'"),
      mariadbDrop: await refused(`sudo sh -c 'MYSQL_PWD=$(sed -n "s/^MARIADB_PASSWORD=//p" ${SECRETS}) mariadb -h 127.0.0.1 -u og og -e "DROP TABLE batches"'`),
      redisDefault: await refused('redis-cli PING'),
      redisFlushall: await refused(`sudo sh -c 'REDISCLI_AUTH=$(sed -n "s/^REDIS_PASSWORD=//p" ${SECRETS}) redis-cli --no-auth-warning --user og FLUSHALL'`),
    };
    console.log(`    refused: ${JSON.stringify(told)}`);
    const expected = { mariadbOgOg: /Access denied/, mariadbDrop: /DROP command denied/, redisDefault: /NOAUTH/, redisFlushall: /NOPERM/ };
    for (const [what, pattern] of Object.entries(expected)) if (!pattern.test(told[what as keyof typeof told])) throw new Error(`${what} was not refused as expected: ${told[what as keyof typeof told]}`);
  });

  const redisSettings = async () => {
    const get = async (key: string) => (await redisAsAdmin(`CONFIG GET ${key}`)).trim().split('\n')[1];
    expectEqual(
      { policy: await get('maxmemory-policy'), aof: await get('appendonly'), fsync: await get('appendfsync') },
      { policy: 'noeviction', aof: 'yes', fsync: 'everysec' },
      "Redis's eviction and persistence settings",
    );
  };
  await step("Redis: never evicts, append-only file fsynced every second", redisSettings);

  await step('npm run client -- --duration 20 --verify, in the VM', () =>
    machine.run(`cd ${APP_DIR} && npm run client -- --duration 20 --verify`, { echo: true, timeoutMs: 5 * 60_000 }),
  );

  /** The dashboards from the host, checked against the VM's raw events; returns them. */
  const dashboardsEqualRawEvents = async (): Promise<Snapshot & { events: number }> => {
    const seen = await snapshot(base);
    const raw = countRaw(await machine.run(`node -e "fetch('http://127.0.0.1:${vagrantfile.guestPort}/events').then(async (r) => { if (!r.ok) process.exit(1); process.stdout.write(await r.text()); })"`));
    if (raw.events === 0) throw new Error('no raw events in the VM');
    expectEqual(
      seen.symbols.map((a) => ({ symbol: a.symbol, count: a.count, followups: a.followups })),
      LETTERS.map((letter) => ({ symbol: letter, ...raw.perLetter.get(letter) })),
      'the symbol dashboards (host) against the raw events (GET /events in the VM)',
    );
    expectEqual(seen.range, seen.symbols, 'the all-time range dashboard against the symbol dashboards');
    return { ...seen, events: raw.events };
  };
  const before = await step('the dashboards, read from the host, equal the raw events', async () => {
    const seen = await dashboardsEqualRawEvents();
    console.log(`    ${seen.events} raw events`);
    return seen;
  });

  await step("the dashboard page in the host's Chromium shows the VM's numbers", async () => {
    const chromium = await launchChromium();
    try {
      const page = await chromium.context.newPage();
      const errors = collectPageErrors(page);
      await page.goto(`${base}/dashboard`);
      await page.waitForSelector('#letters:not([aria-busy])');
      const shown = (await readTable(page)).map((row) => ({ symbol: row.letter, count: Number(row.count), followups: Number(row.followups) }));
      expectEqual(shown, before.symbols.map((a) => ({ symbol: a.symbol, count: a.count, followups: a.followups })), 'the page against the API');
      expectEqual(errors, [], 'console errors on the page');
    } finally {
      await chromium.close();
    }
  });

  const unchanged = async (what: string) => {
    await waitHealthy(base, 120_000);
    // A request that gets no answer, or a 503 (the service mending after its start), is asked
    // again, for 2 minutes; every request goes on a connection of its own (see get). A wrong
    // answer fails at once.
    const deadline = Date.now() + 120_000;
    for (;;) {
      try {
        expectEqual(await dashboardsEqualRawEvents(), before, `the dashboards after ${what}`);
        return;
      } catch (error) {
        const unreached = 'code' in (error as object) || ['TimeoutError', 'ServiceUnavailable'].includes((error as Error).name);
        if (!unreached || Date.now() > deadline) throw error;
        console.log(`    not reached yet (${(error as Error).message}); asking again`);
      }
    }
  };

  await step(`systemctl restart ${UNIT}: every event kept`, async () => {
    await machine.run(`sudo systemctl restart ${UNIT}`);
    await unchanged('a restart');
  });

  await step('kill -9 of the server: systemd starts it again, every event kept', async () => {
    const restarts = async () => Number((await machine.run(`systemctl show -p NRestarts --value ${UNIT}`)).trim());
    const n = await restarts();
    // The server is `node … server/main.ts` under `npm start` (Node 24 names its main thread
    // MainThread, so its process name is no handle).
    const pids = (await machine.run(`pgrep -u ${UNIT} -f '^node .*server/main\\.ts' || true`)).split('\n').filter(Boolean);
    if (pids.length === 0) throw new Error(`no server process (node … server/main.ts) of ${UNIT} to kill`);
    await machine.run(`sudo kill -KILL ${pids.join(' ')}`);
    console.log(`    killed ${pids.join(', ')}`);
    const deadline = Date.now() + 60_000;
    while ((await restarts()) === n) {
      if (Date.now() > deadline) throw new Error('systemd did not restart the killed server within 60 s');
      await sleep(500);
    }
    await unchanged('a kill -9');
  });

  await step('reboot of the VM: MariaDB, Redis and the service come back by themselves, every event kept', async () => {
    const bootId = async () => (await machine.run('cat /proc/sys/kernel/random/boot_id')).trim();
    const first = await bootId();
    await machine.ssh('sudo systemctl reboot', { timeoutMs: 30_000 });
    await sleep(5000);
    await machine.waitForSsh(300_000);
    if ((await bootId()) === first) throw new Error('the VM did not reboot');
    await unchanged('a reboot');
    await redisSettings();
  });

  await step(`npm run client from the host (--url ${base} --duration 10 --verify)`, async () => {
    execFileSync(process.execPath, ['client/main.ts', '--url', base, '--duration', '10', '--verify'], { cwd: ROOT, stdio: 'inherit' });
    await dashboardsEqualRawEvents();
  });

  console.log(`test:vm: passed, from nothing to a working, checked service in ${((Date.now() - started) / 1000).toFixed(0)} s`);
} catch (error) {
  failed = true;
  console.error(`\ntest:vm: FAILED at ${clock()}: ${(error as Error).message}`);
  if (runDir && existsSync(path.join(runDir, 'console.log'))) {
    const lines = readFileSync(path.join(runDir, 'console.log'), 'utf8').split('\n');
    console.error(`\n--- the VM's console, last 60 lines ---\n${lines.slice(-60).join('\n')}`);
  }
  const logs = await vm?.ssh(`sudo journalctl -u ${UNIT} -u mariadb -u redis-server -n 80 --no-pager`, { timeoutMs: 30_000 });
  if (logs?.code === 0) console.error(`\n--- the service logs (journalctl) ---\n${logs.stdout}`);
} finally {
  await vm?.stop();
  if (runDir && !args.keep) await rm(runDir, { recursive: true, force: true });
  else if (runDir) console.log(`test:vm: the VM's disk and console are kept in ${runDir}`);
}
process.exitCode = failed ? 1 : 0;

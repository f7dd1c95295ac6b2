// Test hosts on one machine: a network namespace per host, each joined to one bridge by a veth pair,
// on 198.18.0.0/24 (RFC 2544's benchmarking range: no real network uses it). The bridge has
// 198.18.0.1, so this process reaches every host; no host has a route anywhere else. Every name
// starts with `og-h-`: create() first removes what a run that was killed left behind, remove()
// kills every process of every host and deletes the namespaces, the links and the bridge.
//
//   const net = await TestNetwork.create();
//   const api1 = await net.addHost('api1', 11);        // 198.18.0.11 in namespace og-h-api1
//   await api1.linkDown(); await api1.linkUp();         // cut off, then back
//   await net.remove();

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { findBinary } from '../servers/process.ts';

const execFileAsync = promisify(execFile);

export const PREFIX = 'og-h-';
const SUBNET = '198.18.0';
const BRIDGE = `${PREFIX}br`;
const IPROUTE_MISSING = 'ip not found: run `bash provision/install.sh` (installs iproute2)';
const IPTABLES_MISSING = 'iptables not found: run `bash provision/install.sh` (installs iptables)';

async function run(command: string, args: readonly string[]): Promise<string> {
  try {
    return (await execFileAsync(command, args, { timeout: 30_000 })).stdout;
  } catch (error) {
    const e = error as Error & { stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`, { cause: error });
  }
}

const ip = (...args: string[]): Promise<string> => run(findBinary(['ip'], IPROUTE_MISSING), args);

/** The pids of every process in namespace `ns`. */
async function pidsIn(ns: string): Promise<number[]> {
  const out = await ip('netns', 'pids', ns).catch(() => '');
  return out.split('\n').filter(Boolean).map(Number);
}

async function killAllIn(ns: string): Promise<void> {
  for (let round = 0; round < 50; round++) {
    const pids = await pidsIn(ns);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`processes of ${ns} still run after SIGKILL: ${(await pidsIn(ns)).join(' ')}`);
}

/** One test host: a namespace with an address on the bridge. */
export class TestHost {
  readonly name: string;
  /** The namespace, `og-h-NAME`. */
  readonly ns: string;
  readonly address: string;

  constructor(name: string, address: string) {
    this.name = name;
    this.ns = `${PREFIX}${name}`;
    this.address = address;
  }

  /** `command args` as run inside this host (for spawn: `ip netns exec NS command args`). */
  wrap(command: string, args: readonly string[]): [string, string[]] {
    return [findBinary(['ip'], IPROUTE_MISSING), ['netns', 'exec', this.ns, command, ...args]];
  }

  /** Runs a command inside this host to its end; resolves with its output. */
  exec(command: string, args: readonly string[]): Promise<string> {
    const [wrapped, wrappedArgs] = this.wrap(command, args);
    return run(wrapped, wrappedArgs);
  }

  /** kill -9 of every process on this host (a power cut, the network stack stays). */
  killAll(): Promise<void> {
    return killAllIn(this.ns);
  }

  /** The host's link down: it is cut off from every other host. */
  async linkDown(): Promise<void> {
    await ip('-n', this.ns, 'link', 'set', 'eth0', 'down');
  }

  async linkUp(): Promise<void> {
    await ip('-n', this.ns, 'link', 'set', 'eth0', 'up');
  }

  /** Drops every TCP packet between this host and the given ports of any other (iptables): cut off from one service alone. reconnect() undoes it. */
  async cutOffFrom(ports: readonly number[]): Promise<void> {
    const iptables = findBinary(['iptables'], IPTABLES_MISSING);
    const list = ports.join(',');
    await this.exec(iptables, ['-A', 'OUTPUT', '-p', 'tcp', '-m', 'multiport', '--dports', list, '-j', 'DROP']);
    await this.exec(iptables, ['-A', 'INPUT', '-p', 'tcp', '-m', 'multiport', '--sports', list, '-j', 'DROP']);
  }

  async reconnect(): Promise<void> {
    await this.exec(findBinary(['iptables'], IPTABLES_MISSING), ['-F']);
  }

  /**
   * A bad link on `device`: `lossPercent` of the TCP packets of local `port` dropped both ways
   * (iptables' statistic match) and what this host sends on it throttled to `rate` (a tbf qdisc,
   * e.g. '1mbit'). healLink() undoes both.
   */
  async degradeLink(device: string, port: number, lossPercent: number, rate: string): Promise<void> {
    const iptables = findBinary(['iptables'], IPTABLES_MISSING);
    const drop = ['-m', 'statistic', '--mode', 'random', '--probability', String(lossPercent / 100), '-j', 'DROP'];
    await this.exec(iptables, ['-A', 'INPUT', '-i', device, '-p', 'tcp', '--dport', String(port), ...drop]);
    await this.exec(iptables, ['-A', 'OUTPUT', '-o', device, '-p', 'tcp', '--sport', String(port), ...drop]);
    await ip('-n', this.ns, 'link', 'show', device); // a clear error when the device is not here
    await this.exec(findBinary(['tc'], IPROUTE_MISSING), ['qdisc', 'add', 'dev', device, 'root', 'tbf', 'rate', rate, 'burst', '32kbit', 'latency', '400ms']);
  }

  /** What degradeLink's rules did so far: packets dropped, and the throttle's counters. */
  async linkStats(device: string): Promise<{ dropped: number; sentBytes: number; overlimits: number }> {
    const rules = await this.exec(findBinary(['iptables'], IPTABLES_MISSING), ['-L', '-v', '-x', '-n']);
    const dropped = rules.split('\n').filter((line) => /\bDROP\b/.test(line)).reduce((sum, line) => sum + Number(line.trim().split(/\s+/)[0]), 0);
    const qdisc = await this.exec(findBinary(['tc'], IPROUTE_MISSING), ['-s', 'qdisc', 'show', 'dev', device]);
    return { dropped, sentBytes: Number(qdisc.match(/Sent (\d+) bytes/)?.[1] ?? 0), overlimits: Number(qdisc.match(/overlimits (\d+)/)?.[1] ?? 0) };
  }

  async healLink(device: string): Promise<void> {
    await this.exec(findBinary(['iptables'], IPTABLES_MISSING), ['-F']);
    await this.exec(findBinary(['tc'], IPROUTE_MISSING), ['qdisc', 'del', 'dev', device, 'root']);
  }
}

export class TestNetwork {
  readonly #floating = new Map<string, { host: TestHost; address: string; octet: number }>();

  private constructor() {}

  /** Removes what a killed run left, then creates the bridge. Needs root. */
  static async create(): Promise<TestNetwork> {
    if (process.getuid?.() !== 0) throw new Error('test hosts are network namespaces: run as root (sudo npm run test:hosts)');
    await removeLeftovers();
    const clash = (await ip('-o', '-4', 'route', 'show', 'to', 'match', `${SUBNET}.0/24`)).split('\n').find((route) => !route.startsWith('default'));
    if (clash) throw new Error(`this machine already routes ${SUBNET}.0/24 (${clash.trim()}): the test hosts need it to themselves`);
    await ip('link', 'add', BRIDGE, 'type', 'bridge');
    await ip('addr', 'add', `${SUBNET}.1/24`, 'dev', BRIDGE);
    await ip('link', 'set', BRIDGE, 'up');
    return new TestNetwork();
  }

  /** A host at 198.18.0.`octet`. */
  async addHost(name: string, octet: number): Promise<TestHost> {
    const host = new TestHost(name, `${SUBNET}.${octet}`);
    await ip('netns', 'add', host.ns);
    await this.#plug(host, host.ns, 'eth0', host.address);
    await ip('-n', host.ns, 'link', 'set', 'lo', 'up');
    return host;
  }

  /**
   * A service address (198.18.0.`octet`) on a link of its own (`name`), held by one of `holders`
   * at a time, first `holders[0]`. moveAddress() takes it, with its link and so its MAC, to
   * another: peers' ARP entries stay right, as with keepalived's virtual MAC. Each holder answers
   * ARP only for the addresses of the link asked on, and sends what comes from the address over
   * its link, so that the link's traffic is the service's and only it.
   */
  async addFloatingAddress(name: string, octet: number, holders: TestHost[]): Promise<string> {
    const address = `${SUBNET}.${octet}`;
    const [first] = holders;
    if (!first) throw new Error('a floating address needs a host to hold it');
    for (const host of holders) {
      await host.exec('sh', ['-c', 'echo 1 > /proc/sys/net/ipv4/conf/all/arp_ignore && echo 2 > /proc/sys/net/ipv4/conf/all/arp_announce']);
      await ip('-n', host.ns, 'rule', 'add', 'from', address, 'lookup', String(octet));
    }
    await this.#plug(first, first.ns, name, address);
    await this.#routeFrom(first, name, address, octet);
    this.#floating.set(name, { host: first, address, octet });
    return address;
  }

  /** Moves floating address `name` to `to` (the one-command switch of the runbook). */
  async moveAddress(name: string, to: TestHost): Promise<void> {
    const floating = this.#floating.get(name);
    if (!floating) throw new Error(`no floating address ${name}`);
    await ip('-n', floating.host.ns, 'link', 'set', name, 'netns', to.ns);
    await ip('-n', to.ns, 'addr', 'add', `${floating.address}/24`, 'dev', name);
    await ip('-n', to.ns, 'link', 'set', name, 'up');
    await this.#routeFrom(to, name, floating.address, floating.octet);
    this.#floating.set(name, { ...floating, host: to });
  }

  async #routeFrom(host: TestHost, link: string, address: string, table: number): Promise<void> {
    await ip('-n', host.ns, 'route', 'add', `${SUBNET}.0/24`, 'dev', link, 'src', address, 'table', String(table));
  }

  /** Kills every process on every host and deletes every namespace and link. Idempotent. */
  remove(): Promise<void> {
    return removeLeftovers();
  }

  async #plug(host: TestHost, ns: string, inside: string, address: string): Promise<void> {
    const outside = `${PREFIX}${host.name}${inside === 'eth0' ? '' : `-${inside}`}`.slice(0, 15);
    await ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside, 'netns', ns);
    await ip('link', 'set', outside, 'master', BRIDGE, 'up');
    await ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', inside);
    await ip('-n', ns, 'link', 'set', inside, 'up');
  }
}

function ignoreGoneDevice(error: unknown): void {
  if (!(error instanceof Error && error.message.includes('Cannot find device'))) throw error;
}

/**
 * Every og-h-* namespace (its processes killed first) and link, the bridge included. Tries each
 * one whatever the others did, then throws what failed.
 */
export async function removeLeftovers(): Promise<void> {
  const failed: unknown[] = [];
  const attempt = (step: () => Promise<unknown>) => step().catch((error: unknown) => void failed.push(error));
  const namespaces = (await ip('netns', 'list').catch(() => '')).split('\n').map((line) => line.split(' ')[0] ?? '').filter((ns) => ns.startsWith(PREFIX));
  for (const ns of namespaces) {
    await attempt(() => killAllIn(ns));
    await attempt(() => ip('netns', 'delete', ns));
  }
  // A namespace's veth ends go with it; what is left is the bridge and the ends of failed deletes.
  const links = (await ip('-o', 'link', 'show')).split('\n').map((line) => line.split(': ')[1]?.split('@')[0] ?? '').filter((name) => name.startsWith(PREFIX));
  // The kernel frees a deleted namespace's veth ends a moment later: one gone by now is removed.
  for (const link of links) await attempt(() => ip('link', 'delete', link).catch(ignoreGoneDevice));
  if (failed.length > 0) throw new AggregateError(failed, `could not remove every test host (${failed.length} steps failed): run \`ip netns list\` and \`ip link\` to see what is left`);
}

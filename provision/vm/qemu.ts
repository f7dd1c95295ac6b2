// A Debian VM under qemu for `npm run test:vm`: booted from the box's own kernel, reached only
// through qemu's user network (ports forwarded to the host's 127.0.0.1, no bridge, no address of
// any other network), driven over SSH as the box's user, as Vagrant drives its machines.

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface VmOptions {
  /** The box: disk.img is not used (see `disk`), vmlinuz, initrd.img and id_ed25519 are. */
  boxDir: string;
  /** The VM's own copy of the box's disk image: it keeps what is provisioned across reboots. */
  disk: string;
  memoryMb: number;
  cpus: number;
  /** Guest TCP ports to reach from the host, each on a free port of 127.0.0.1. */
  guestPorts: number[];
  /** Where the serial console goes. */
  consoleLog: string;
  /** 'tcg' (software emulation, works everywhere) or 'kvm'. */
  accel: 'tcg' | 'kvm';
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** A free TCP port on 127.0.0.1, as the kernel hands one out. */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

export class Vm {
  private qemu: ChildProcess | undefined;
  private exited = false;

  private readonly options: VmOptions;
  private readonly sshPort: number;
  /** guest port -> host port on 127.0.0.1 */
  readonly forwarded: ReadonlyMap<number, number>;

  private constructor(options: VmOptions, sshPort: number, forwarded: ReadonlyMap<number, number>) {
    this.options = options;
    this.sshPort = sshPort;
    this.forwarded = forwarded;
  }

  static async create(options: VmOptions): Promise<Vm> {
    const forwarded = new Map<number, number>();
    for (const guest of options.guestPorts) forwarded.set(guest, await freePort());
    return new Vm(options, await freePort(), forwarded);
  }

  /** Starts qemu; resolves once the VM answers on SSH. A reboot inside the VM keeps this qemu. */
  async boot(timeoutMs: number): Promise<void> {
    const o = this.options;
    const forwards = [[this.sshPort, 22], ...[...this.forwarded].map(([guest, host]) => [host, guest])]
      .map(([host, guest]) => `hostfwd=tcp:127.0.0.1:${host}-:${guest}`)
      .join(',');
    const accel = o.accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg,thread=multi', '-cpu', 'max'];
    this.qemu = spawn(
      'qemu-system-x86_64',
      [
        ...accel,
        ['-m', String(o.memoryMb)],
        ['-smp', String(o.cpus)],
        ['-kernel', path.join(o.boxDir, 'vmlinuz')],
        ['-initrd', path.join(o.boxDir, 'initrd.img')],
        ['-append', 'root=/dev/vda rw console=ttyS0'],
        ['-drive', `file=${o.disk},format=raw,if=virtio`],
        ['-netdev', `user,id=net0,${forwards}`],
        ['-device', 'virtio-net-pci,netdev=net0'],
        ['-serial', `file:${o.consoleLog}`],
        ['-display', 'none'],
        ['-monitor', 'none'],
      ].flat(),
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let qemuErrors = '';
    this.qemu.stderr!.on('data', (chunk: Buffer) => (qemuErrors += chunk.toString()));
    this.qemu.once('exit', () => (this.exited = true));
    this.qemu.once('error', (error) => (qemuErrors += error.message));
    try {
      await this.waitForSsh(timeoutMs);
    } catch (error) {
      throw new Error(`${(error as Error).message}${qemuErrors ? `; qemu said: ${qemuErrors.trim()}` : ''}`, { cause: error });
    }
  }

  /** Resolves once a command runs over SSH. */
  async waitForSsh(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.exited) throw new Error('qemu exited');
      const run = await this.ssh('true', { timeoutMs: 15_000 });
      if (run.code === 0) return;
      if (Date.now() > deadline) throw new Error(`no SSH answer within ${timeoutMs / 1000} s (last: ${run.stderr.trim() || `exit ${run.code}`})`);
      await sleep(1000);
    }
  }

  /**
   * Runs `command` in the VM as the box's user (`bash -c` under sshd), with `input` on its stdin;
   * `echo` writes its output to the host's stdout as it comes, indented.
   */
  ssh(command: string, options: { input?: string; timeoutMs?: number; echo?: boolean } = {}): Promise<Run> {
    const child = spawn('ssh', [...this.sshArgs(), 'vagrant@127.0.0.1', command], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const echo = (chunk: Buffer) => {
      if (options.echo) process.stdout.write(chunk.toString().replace(/^(?=.)/gm, '    '));
    };
    child.stdout.on('data', (chunk: Buffer) => (out.push(chunk), echo(chunk)));
    child.stderr.on('data', (chunk: Buffer) => (err.push(chunk), echo(chunk)));
    child.stdin.end(options.input ?? '');
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    return new Promise((resolve) => {
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? 255, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
      });
    });
  }

  /** Like ssh(), but a non-zero exit throws with what the command printed. */
  async run(command: string, options: { input?: string; timeoutMs?: number; echo?: boolean } = {}): Promise<string> {
    const run = await this.ssh(command, options);
    if (run.code !== 0) throw new Error(`in the VM, \`${command}\` exited ${run.code}: ${(run.stderr || run.stdout).trim().slice(-2000)}`);
    return run.stdout;
  }

  /** The `-e` of rsync (and the options of ssh): the box's key, this VM's port, no host key to trust. */
  rsyncShell(): string {
    return ['ssh', ...this.sshArgs()].join(' ');
  }

  async stop(): Promise<void> {
    if (!this.qemu || this.exited) return;
    this.qemu.kill('SIGKILL');
    await once(this.qemu, 'exit');
  }

  private sshArgs(): string[] {
    return [
      ['-i', path.join(this.options.boxDir, 'id_ed25519')],
      ['-p', String(this.sshPort)],
      ['-o', 'BatchMode=yes'],
      ['-o', 'StrictHostKeyChecking=no'],
      ['-o', 'UserKnownHostsFile=/dev/null'],
      ['-o', 'LogLevel=ERROR'],
      ['-o', 'ConnectTimeout=10'],
      ['-o', 'ServerAliveInterval=10'],
    ].flat();
  }
}

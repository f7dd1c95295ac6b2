// What `npm run test:vm` reads from the Vagrantfile, so that the test provisions the VM the way
// `vagrant up` would and nothing of it is written twice: the hostname, the VM's size, the
// forwarded port, the rsync synced folder and the shell provisioners, in order.

export interface ShellProvisioner {
  name: string;
  /** The script, relative to the Vagrantfile. */
  path: string;
  /** Its arguments, as one string (Vagrant appends it to the command line). */
  args: string;
}

export interface Vagrantfile {
  hostname: string;
  memoryMb: number;
  cpus: number;
  /** The guest port that `forwarded_port` forwards. */
  guestPort: number;
  syncedFolder: { guestPath: string; excludes: string[] };
  provisioners: ShellProvisioner[];
}

function one(text: string, pattern: RegExp, what: string): RegExpExecArray {
  const match = pattern.exec(text);
  if (!match) throw new Error(`Vagrantfile: ${what} not found (${pattern})`);
  return match;
}

function quoted(list: string): string[] {
  return [...list.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
}

/** Parses this project's Vagrantfile (its lines as written there, not any Ruby). */
export function parseVagrantfile(text: string): Vagrantfile {
  const virtualbox = one(text, /config\.vm\.provider "virtualbox" do \|vb\|([\s\S]*?)\n {2}end/, 'the virtualbox provider')[1]!;
  const synced = one(text, /config\.vm\.synced_folder "\.", "([^"]+)", type: "rsync",\s*rsync__exclude: \[([^\]]*)\]/, 'the rsync synced folder');
  const provisioners = [...text.matchAll(/^\s*config\.vm\.provision "([^"]+)", type: "shell", path: "([^"]+)"(?:, args: "([^"]*)")?\s*$/gm)].map((m) => ({
    name: m[1]!,
    path: m[2]!,
    args: m[3] ?? '',
  }));
  if (provisioners.length === 0) throw new Error('Vagrantfile: no shell provisioner found');
  return {
    hostname: one(text, /config\.vm\.hostname = "([^"]+)"/, 'config.vm.hostname')[1]!,
    memoryMb: Number(one(virtualbox, /vb\.memory = (\d+)/, 'vb.memory')[1]),
    cpus: Number(one(virtualbox, /vb\.cpus = (\d+)/, 'vb.cpus')[1]),
    guestPort: Number(one(text, /config\.vm\.network "forwarded_port", guest: (\d+)/, 'the forwarded port')[1]),
    syncedFolder: { guestPath: synced[1]!, excludes: quoted(synced[2]!) },
    provisioners,
  };
}

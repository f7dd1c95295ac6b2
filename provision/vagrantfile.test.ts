// The Vagrantfile as text (Vagrant itself cannot run here; `npm run test:vm` provisions a VM the way
// it says): the forwarded port binds the host's loopback unless VAGRANT_HOST_IP says otherwise, and
// the parts that test reads are there.

import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { parseVagrantfile } from './vm/vagrantfile.ts';

const VAGRANTFILE = readFileSync(new URL('../Vagrantfile', import.meta.url), 'utf8');

it('forwards port 5000 on the host loopback only, by default', () => {
  const forwards = VAGRANTFILE.split('\n').filter((line) => /^\s*config\.vm\.network\s+"forwarded_port"/.test(line));
  expect(forwards).toEqual(['  config.vm.network "forwarded_port", guest: 5000, host: 5000, host_ip: ENV.fetch("VAGRANT_HOST_IP", "127.0.0.1")']);
});

it('reads as npm run test:vm uses it: node, then install for the service only, then the service', () => {
  expect(parseVagrantfile(VAGRANTFILE)).toEqual({
    hostname: 'vowel-analytics',
    memoryMb: 2048,
    cpus: 2,
    guestPort: 5000,
    syncedFolder: { guestPath: '/vagrant', excludes: ['.git/', 'node_modules/', 'data/', 'bench/results/', 'coverage/', '.vagrant/'] },
    provisioners: [
      { name: 'node', path: 'provision/node.sh', args: '' },
      { name: 'install', path: 'provision/install.sh', args: '--service' },
      { name: 'service', path: 'provision/service.sh', args: '' },
    ],
  });
});

it('names each part it misses', () => {
  expect(() => parseVagrantfile(VAGRANTFILE.replace('config.vm.hostname', 'config.vm.host'))).toThrow(/config\.vm\.hostname not found/);
  expect(() => parseVagrantfile(VAGRANTFILE.replaceAll('config.vm.provision', '# provision'))).toThrow(/no shell provisioner/);
});

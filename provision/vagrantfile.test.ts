// The Vagrantfile as text (Vagrant itself cannot run here; `npm run test:vm` is to boot what it
// provisions): the forwarded port binds the host's loopback unless VAGRANT_HOST_IP says otherwise.

import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

const VAGRANTFILE = readFileSync(new URL('../Vagrantfile', import.meta.url), 'utf8');

it('forwards port 5000 on the host loopback only, by default', () => {
  const forwards = VAGRANTFILE.split('\n').filter((line) => /^\s*config\.vm\.network\s+"forwarded_port"/.test(line));
  expect(forwards).toEqual(['  config.vm.network "forwarded_port", guest: 5000, host: 5000, host_ip: ENV.fetch("VAGRANT_HOST_IP", "127.0.0.1")']);
});

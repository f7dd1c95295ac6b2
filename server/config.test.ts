import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('defaults: no admin token, slow clients bounded', () => {
    const config = loadConfig([], {});
    expect(config.adminToken).toBeUndefined();
    expect(config.maxLiveStreams).toBe(1000);
    expect(config.limits).toEqual({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, maxConnections: 10_000 });
  });

  it('takes ADMIN_TOKEN from the environment only, and refuses one too short to resist guessing', () => {
    expect(loadConfig([], { ADMIN_TOKEN: '0123456789abcdef' }).adminToken).toBe('0123456789abcdef');
    expect(() => loadConfig([], { ADMIN_TOKEN: 'secret' })).toThrow(/ADMIN_TOKEN must be at least 16 characters/);
    expect(() => loadConfig([], { ADMIN_TOKEN: '' })).toThrow(/ADMIN_TOKEN must be at least 16 characters/);
    expect(() => loadConfig(['--admin-token', '0123456789abcdef'], {})).toThrow(/Unknown option/);
  });

  it('PARTITIONS: unset leaves the interface its default; 1 to 256', () => {
    expect(loadConfig([], {}).interface.partitions).toBeUndefined();
    expect(loadConfig([], { PARTITIONS: '24' }).interface.partitions).toBe(24);
    expect(loadConfig(['--partitions', '256'], { PARTITIONS: '2' }).interface.partitions).toBe(256);
    expect(() => loadConfig([], { PARTITIONS: '0' })).toThrow(/PARTITIONS "0" is not valid: use a whole number from 1 to 256/);
    expect(() => loadConfig([], { PARTITIONS: '257' })).toThrow(/PARTITIONS "257" is not valid/);
  });

  it('refuses a headers timeout longer than the request timeout', () => {
    expect(() => loadConfig([], { HEADERS_TIMEOUT_MS: '40000' })).toThrow(/HEADERS_TIMEOUT_MS \(40000\) is longer than REQUEST_TIMEOUT_MS \(30000\)/);
    expect(loadConfig(['--max-connections', '50'], { MAX_LIVE_STREAMS: '3' })).toMatchObject({ maxLiveStreams: 3, limits: { maxConnections: 50 } });
  });
});

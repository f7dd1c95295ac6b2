// The same-work floor: the durable floor (reference-server.ts) plus the work mariadb-redis must do
// for POST /initial, each part in its cheapest form, to show what doing that work costs on this
// machine at least:
// - the request validated (a uuid, one letter a to z: 400 otherwise) and a guess made;
// - group commit as the floor's, into a batch log (one row a batch) and the initials, whose uuid
//   is their primary key (the first request of a uuid is kept), with the index a range's edges read
//   (ts, symbol) and the batch's: one round trip a batch (START TRANSACTION … COMMIT in one query),
//   the rows stored learnt from INSERT … RETURNING, a repeated uuid's guess read back;
// - after the answers, the batch's aggregates in Redis, exactly once: one script call per batch
//   (batches that wait for it go together), which checks and moves a mark and fans each
//   (second, letter) group out to the totals and to a bucket of every level mariadb-redis keeps
//   (count, earliest and latest in one field a letter: "count lo hi". mariadb-redis has a field for
//   each, four a letter with the followups: a hash of up to 104 fields, which Redis keeps as one
//   list and scans once per field read or written; measured on one apply of 16 events, one field a
//   letter costs Redis 37% less.)
// No Express, no metrics, no logs, no deadlines, no fault handling beyond a 503.
// `node bench/reference-server.ts same-work-floor PORT MARIADB_URL REDIS_URL`

import http from 'node:http';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import { isLetter, type Letter } from '../interfaces/contract.ts';
import { createGuesser } from '../server/model.ts';

// mariadb-redis's levels (interfaces/mariadb-redis/buckets.ts): tag, seconds, seconds kept after the bucket ends (0: forever).
const LEVELS = [['s', 1, 21_600], ['s10', 10, 21_600], ['m', 60, 3_024_000], ['m10', 600, 3_024_000], ['h', 3_600, 0], ['h6', 21_600, 0], ['d', 86_400, 0], ['d8', 691_200, 0], ['d32', 2_764_800, 0], ['d256', 22_118_400, 0], ['d1024', 88_473_600, 0]];

// KEYS[1] the mark; ARGV[1] the mark before, ARGV[2] the mark after, ARGV[3..] groups of second, letter, count, lo, hi.
const APPLY = `
local levels = {${LEVELS.map(([tag, seconds, kept]) => `{'${tag}', ${seconds}, ${kept}}`).join(', ')}}
if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[1] then return 'gap' end
redis.call('SET', KEYS[1], ARGV[2])
local hashes, expiry = {}, {}
local function add(key, expireAt, letter, count, lo, hi)
  local letters = hashes[key]
  if not letters then letters = {}; hashes[key] = letters; expiry[key] = expireAt end
  local d = letters[letter]
  if not d then letters[letter] = {count, lo, hi} else
    d[1] = d[1] + count
    if lo < d[2] then d[2] = lo end
    if hi > d[3] then d[3] = hi end
  end
end
for i = 3, #ARGV, 5 do
  local second, letter, count, lo, hi = tonumber(ARGV[i]), ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3]), tonumber(ARGV[i + 4])
  add('sw:total', 0, letter, count, lo, hi)
  for _, level in ipairs(levels) do
    local index = math.floor(second / level[2])
    add('sw:' .. level[1] .. ':' .. index, level[3] > 0 and (index + 1) * level[2] + level[3] or 0, letter, count, lo, hi)
  end
end
for key, letters in pairs(hashes) do
  local order = {}
  for letter in pairs(letters) do order[#order + 1] = letter end
  local old = redis.call('HMGET', key, unpack(order))
  local changed = {}
  for i, letter in ipairs(order) do
    local d = letters[letter]
    local count, lo, hi = 0, d[2], d[3]
    if old[i] then
      local c, l, h = string.match(old[i], '^(%d+) (%d+) (%d+)$')
      count, lo, hi = tonumber(c), math.min(lo, tonumber(l)), math.max(hi, tonumber(h))
    end
    changed[#changed + 1], changed[#changed + 2] = letter, string.format('%d %d %d', count + d[1], lo, hi)
  end
  redis.call('HSET', key, unpack(changed))
  if expiry[key] > 0 then redis.call('EXPIREAT', key, expiry[key]) end
end
return 'applied'`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Waiting {
  uuid: Buffer;
  symbol: Letter;
  guess: boolean;
  ts: number;
  res: http.ServerResponse;
}

interface Committed {
  seq: number;
  /** Per second and letter: count, earliest, latest (µs). */
  groups: Map<string, [second: number, letter: string, count: number, lo: number, hi: number]>;
}

export async function sameWorkFloor(port: number, mariadbUrl: string, redisUrl: string): Promise<http.Server> {
  const db = mysql.createPool({ uri: mariadbUrl, connectionLimit: 1, multipleStatements: true });
  await db.query(`CREATE TABLE IF NOT EXISTS sw_batches (seq BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, committed_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB;
    CREATE TABLE IF NOT EXISTS sw_initials (uuid BINARY(16) NOT NULL PRIMARY KEY, symbol CHAR(1) CHARACTER SET ascii NOT NULL, guess BOOLEAN NOT NULL, ts BIGINT NOT NULL, seq BIGINT UNSIGNED NOT NULL, pos INT UNSIGNED NOT NULL, KEY by_ts_symbol (ts, symbol), KEY by_batch (seq)) ENGINE=InnoDB`);
  const redis = new Redis(redisUrl, { enableAutoPipelining: true });
  redis.defineCommand('swApply', { numberOfKeys: 1, lua: APPLY });
  await redis.set('sw:mark', '0');

  const guess = createGuesser();
  let waiting: Waiting[] = [];
  let committing = false;
  let projected: Committed[] = [];
  let projecting = false;
  let mark = '0';

  const answer = (res: http.ServerResponse, status: number, body: string) => res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(body);

  const project = async () => {
    projecting = true;
    while (projected.length > 0) {
      const batches = projected;
      projected = [];
      const args: (string | number)[] = [];
      for (const { groups } of batches) for (const group of groups.values()) args.push(...group);
      const next = String(batches.at(-1)!.seq);
      await (redis as unknown as { swApply(key: string, ...args: (string | number)[]): Promise<string> }).swApply('sw:mark', mark, next, ...args);
      mark = next;
    }
    projecting = false;
  };

  const commit = async (batch: Waiting[]) => {
    const rows = batch.map(({ uuid, symbol, guess, ts }, pos) => [uuid, symbol, guess, ts, { toSqlString: () => '@seq' }, pos]);
    const [results] = await db.query<mysql.RowDataPacket[][]>(
      'START TRANSACTION; INSERT INTO sw_batches () VALUES (); SET @seq = LAST_INSERT_ID(); INSERT IGNORE INTO sw_initials (uuid, symbol, guess, ts, seq, pos) VALUES ? RETURNING uuid; SELECT @seq AS seq; COMMIT',
      [rows],
    );
    const stored = results[3] ?? [];
    const fresh = new Set(stored.map((row) => (row.uuid as Buffer).toString('hex')));
    const repeated = batch.filter((request) => !fresh.has(request.uuid.toString('hex')));
    const guesses = new Map<string, boolean>();
    if (repeated.length > 0) {
      const [known] = await db.query<mysql.RowDataPacket[]>('SELECT uuid, guess FROM sw_initials WHERE uuid IN (?)', [repeated.map((request) => request.uuid)]);
      for (const row of known) guesses.set((row.uuid as Buffer).toString('hex'), Boolean(row.guess));
    }
    const groups: Committed['groups'] = new Map();
    for (const request of batch) {
      const key = request.uuid.toString('hex');
      const first = fresh.delete(key);
      answer(request.res, 200, (first ? request.guess : (guesses.get(key) ?? request.guess)) ? 'True' : 'False');
      if (!first) continue;
      const second = Math.floor(request.ts / 1_000_000);
      const group = groups.get(`${second}${request.symbol}`);
      if (!group) groups.set(`${second}${request.symbol}`, [second, request.symbol, 1, request.ts, request.ts]);
      else {
        group[2]++;
        group[3] = Math.min(group[3], request.ts);
        group[4] = Math.max(group[4], request.ts);
      }
    }
    projected.push({ seq: Number(results[4]?.[0]?.seq), groups });
    if (!projecting) void project();
  };

  const commitWaiting = async () => {
    committing = true;
    while (waiting.length > 0) {
      const batch = waiting;
      waiting = [];
      await commit(batch).catch(() => batch.forEach((request) => answer(request.res, 503, 'not stored')));
    }
    committing = false;
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/healthz') return void res.end('up');
    if (url.pathname !== '/initial' || req.method !== 'POST') return void answer(res, 404, 'only POST /initial');
    const uuid = url.searchParams.get('uuid') ?? '';
    const symbol = url.searchParams.get('symbol') ?? '';
    if (!UUID.test(uuid)) return void answer(res, 400, 'uuid: a UUID, please');
    if (!isLetter(symbol)) return void answer(res, 400, 'symbol: one letter a to z, please');
    waiting.push({ uuid: Buffer.from(uuid.replaceAll('-', ''), 'hex'), symbol, guess: guess(symbol), ts: Date.now() * 1000, res });
    if (!committing) void commitWaiting();
  });
  return server.listen(port, '127.0.0.1');
}

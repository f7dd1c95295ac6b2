// The HTTP half of the contract suite: the server over a real socket, on the interface under test,
// with the clock and the model's random source chosen by the test. Run unchanged for every interface
// (`shapesOnly` for the null interface, which stores nothing).

import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../server/app.ts';
import { LETTERS, type DataInterface } from '../contract.ts';
import { parseTimestamp, type Micros } from '../time.ts';
import { recordingAnswers, violations, type Answer } from './openapi-answers.ts';

const T0 = parseTimestamp('2017-06-28 19:34:14.486693') as Micros;
const UUID_A = '0b7e3e2a-6a53-4c39-9f5e-3d1c2a4b5c6d';
const UUID_B = '1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b';
const ALL_TIME = '/dashboard/range/1970-01-01/2200-01-01';
// The first and last instants whose microseconds a JS number holds exactly (±(2^53 - 1) µs).
const FIRST = '1684-07-28 00:12:25.259009';
const LAST = '2255-06-05 23:47:34.740991';
const SPAN = /outside the span .* from 1684-07-28 00:12:25\.259009 to 2255-06-05 23:47:34\.740991/;

interface Harness {
  url: string;
  /** The timestamp the server gives the next event. */
  now: Micros;
  /** The model's next draws; Math.random once exhausted. */
  draws: number[];
  /** Events the server offered the interface: a request it refuses must offer none. */
  writes: number;
  post(path: string, init?: RequestInit): Promise<Response>;
  json(path: string): Promise<unknown>;
}

export function httpContract(name: string, open: () => Promise<DataInterface>, options: { shapesOnly?: boolean } = {}): void {
  describe(`${name}: HTTP API`, () => {
    let data: DataInterface;
    let server: Server;
    const h = {} as Harness;
    let answers: Answer[] = [];

    beforeEach(async () => {
      data = await open();
      h.now = T0;
      h.draws = [];
      h.writes = 0;
      const app = createApp({ data: countingWrites(data, h), clock: () => h.now, random: () => h.draws.shift() ?? Math.random() });
      answers = [];
      server = createServer(recordingAnswers(app, (answer) => answers.push(answer))).listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      h.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      h.post = (path, init) => fetch(h.url + path, { method: 'POST', ...init });
      h.json = async (path) => {
        const response = await fetch(h.url + path);
        expect(response.status, `GET ${path}`).toBe(200);
        return response.json();
      };
    });

    afterEach(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await data.close();
      // Every answer of the test, whatever it checked itself, is one the OpenAPI document describes.
      expect(answers.flatMap(violations), 'answers that server/openapi.json does not describe').toEqual([]);
    });

    describe('POST /initial', () => {
      it('answers the model guess as text/plain True or False', async () => {
        h.draws = [0.99]; // "a" is a vowel; 0.99 does not flip
        let response = await h.post(`/initial?uuid=${UUID_A}&symbol=a`);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
        expect(await response.text()).toBe('True');
        h.draws = [0.05]; // "b" is a consonant; 0.05 < 0.1 flips the answer
        response = await h.post(`/initial?uuid=${UUID_B}&symbol=b`);
        expect(await response.text()).toBe('True');
      });

      it('judges "y" with a fair coin before the flip', async () => {
        h.draws = [0.3, 0.99]; // coin < 0.5: vowel; no flip
        expect(await (await h.post(`/initial?uuid=${UUID_A}&symbol=y`)).text()).toBe('True');
        h.draws = [0.7, 0.99]; // coin >= 0.5: consonant; no flip
        expect(await (await h.post(`/initial?uuid=${UUID_B}&symbol=y`)).text()).toBe('False');
      });

      it('takes the parameters from a urlencoded or JSON body too', async () => {
        let response = await h.post('/initial', {
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: `uuid=${UUID_A}&symbol=e`,
        });
        expect(response.status).toBe(200);
        response = await h.post('/initial', {
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ uuid: UUID_B, symbol: 'e' }),
        });
        expect(response.status).toBe(200);
        if (!options.shapesOnly) expect(await h.json('/dashboard/symbol/e')).toMatchObject({ count: 2 });
      });

      it('answers a repeated initial with the first guess and counts it once', async () => {
        h.draws = [0.99];
        expect(await (await h.post(`/initial?uuid=${UUID_A}&symbol=a`)).text()).toBe('True');
        h.draws = [0.05]; // would flip, but a retry gets the first answer
        h.now = T0 + 5;
        const retry = await h.post(`/initial?uuid=${UUID_A.toUpperCase()}&symbol=a`);
        expect(retry.status).toBe(200);
        if (options.shapesOnly) return; // the null interface keeps no first guess to answer again
        expect(await retry.text()).toBe('True');
        expect(await h.json('/dashboard/symbol/a')).toEqual({
          count: 1, symbol: 'a', earliest: '2017-06-28 19:34:14.486693', latest: '2017-06-28 19:34:14.486693', followups: 0,
        });
      });

      it('rejects a recorded uuid with another symbol: 409, nothing counted', async () => {
        await h.post(`/initial?uuid=${UUID_A}&symbol=a`);
        const response = await h.post(`/initial?uuid=${UUID_A}&symbol=b`);
        if (options.shapesOnly) {
          // The null interface keeps no initial to conflict with: the request is accepted, well-formed.
          expect(response.status).toBe(200);
          expect(await response.text()).toMatch(/^(True|False)$/);
          return;
        }
        expect(response.status).toBe(409);
        expect((await response.json()).error).toMatch(/already recorded with symbol "a"/);
        expect(await h.json('/dashboard/symbol/b')).toMatchObject({ count: 0 });
      });
    });

    describe('POST /followup', () => {
      it('answers hooray and counts toward the symbol of the initial, every time', async () => {
        await h.post(`/initial?uuid=${UUID_A}&symbol=o`);
        h.now = T0 + 1_000_000;
        const response = await h.post(`/followup?uuid=${UUID_A}`);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
        expect(await response.text()).toBe('hooray');
        await h.post(`/followup?uuid=${UUID_A}`);
        if (!options.shapesOnly) expect(await h.json('/dashboard/symbol/o')).toMatchObject({ count: 1, followups: 2 });
      });

      it('answers 404 for a uuid with no initial and stores nothing', async () => {
        const response = await h.post(`/followup?uuid=${UUID_B}`);
        if (options.shapesOnly) {
          // The null interface keeps no initial to look the uuid up in: the followup is accepted.
          expect(response.status).toBe(200);
          expect(await response.text()).toBe('hooray');
          return;
        }
        expect(response.status).toBe(404);
        expect((await response.json()).error).toMatch(/no initial/);
        await h.post(`/initial?uuid=${UUID_B}&symbol=c`);
        expect(await h.json('/dashboard/symbol/c')).toMatchObject({ count: 1, followups: 0 });
      });
    });

    describe('GET /dashboard/symbol/:symbol', () => {
      it('answers JSON with the keys in order and null timestamps when empty', async () => {
        const response = await fetch(`${h.url}/dashboard/symbol/q`);
        expect(response.headers.get('content-type')).toMatch(/^application\/json/);
        expect(await response.text()).toBe('{"count":0,"symbol":"q","earliest":null,"latest":null,"followups":0}');
      });

      it('prints earliest and latest with six fraction digits, zeros included (null: still the empty shape)', async () => {
        h.now = parseTimestamp('2017-06-29 13:15:01') as Micros;
        await h.post(`/initial?uuid=${UUID_A}&symbol=e`);
        h.now = parseTimestamp('2017-06-28 00:00:00.000001') as Micros;
        await h.post(`/initial?uuid=${UUID_B}&symbol=e`);
        const text = await (await fetch(`${h.url}/dashboard/symbol/e`)).text();
        expect(text).toBe(
          options.shapesOnly
            ? '{"count":0,"symbol":"e","earliest":null,"latest":null,"followups":0}'
            : '{"count":2,"symbol":"e","earliest":"2017-06-28 00:00:00.000001","latest":"2017-06-29 13:15:01.000000","followups":0}',
        );
      });
    });

    describe('GET /dashboard/range/:lower/:upper', () => {
      it('answers 26 letters a to z, half-open at the microsecond', async () => {
        for (const [i, uuid] of [UUID_A, UUID_B].entries()) {
          h.now = T0 + i; // two events one microsecond apart
          await h.post(`/initial?uuid=${uuid}&symbol=k`);
        }
        const exact = encodeURIComponent('2017-06-28 19:34:14.486693');
        const next = encodeURIComponent('2017-06-28 19:34:14.486694');
        const range = (await h.json(`/dashboard/range/${exact}/${next}`)) as { symbol: string; count: number }[];
        expect(range.map((row) => row.symbol)).toEqual([...LETTERS]);
        for (const row of range) expect(Object.keys(row)).toEqual(['count', 'symbol', 'earliest', 'latest', 'followups']);
        const empty = (await h.json(`/dashboard/range/${exact}/${exact}`)) as { count: number }[];
        expect(empty.every((row) => row.count === 0)).toBe(true);
        if (options.shapesOnly) return;
        expect(range[10]).toEqual({
          count: 1, symbol: 'k', earliest: '2017-06-28 19:34:14.486693', latest: '2017-06-28 19:34:14.486693', followups: 0,
        });
      });

      it('is exact at the first and last instants it accepts', async () => {
        for (const [uuid, ts] of [[UUID_A, -Number.MAX_SAFE_INTEGER], [UUID_B, Number.MAX_SAFE_INTEGER - 1]] as const) {
          h.now = ts;
          expect((await h.post(`/initial?uuid=${uuid}&symbol=e`)).status).toBe(200);
        }
        const range = async (lower: string, upper: string) =>
          (await h.json(`/dashboard/range/${encodeURIComponent(lower)}/${encodeURIComponent(upper)}`)) as { count: number }[];
        const [first, last, both] = [
          await range(FIRST, '1684-07-28 00:12:25.259010'), await range('2255-06-05', LAST), await range(FIRST, LAST),
        ];
        for (const answer of [first, last, both]) expect(answer).toHaveLength(26);
        if (options.shapesOnly) return;
        const e = (count: number, earliest: string, latest: string) => ({ count, symbol: 'e', earliest, latest, followups: 0 });
        expect(first[4]).toEqual(e(1, FIRST, FIRST));
        expect(last[4]).toEqual(e(1, '2255-06-05 23:47:34.740990', '2255-06-05 23:47:34.740990'));
        expect(both[4]).toEqual(e(2, FIRST, '2255-06-05 23:47:34.740990'));
      });

      it.each([
        ['2017-06-28', '2017-06-29'],
        ['2017-06-28 19:34', '2017-06-28 19:35'],
        ['2017-06-28T19:34', '2017-06-28T19:35Z'],
        ['2017-06-28 19:34:14', '2017-06-28 19:34:15'],
        ['2017-06-28 19:34:14.4', '2017-06-28T19:34:14.486694Z'],
        ['2017-06-28Z', '2017-06-29Z'],
      ])('accepts %s to %s', async (lower, upper) => {
        await h.post(`/initial?uuid=${UUID_A}&symbol=e`);
        const range = (await h.json(`/dashboard/range/${encodeURIComponent(lower)}/${encodeURIComponent(upper)}`)) as { count: number }[];
        expect(range).toHaveLength(26);
        if (!options.shapesOnly) expect(range[4]?.count).toBe(1);
      });

      it.each([
        ['2017-02-30', '2017-03-01', /not a valid date/],
        ['2017-06-28 24:00', '2017-06-29', /not a valid date/],
        ['2017-06-28 19:60', '2017-06-29', /not a valid date/],
        ['2017-13-01', '2018-01-01', /not a valid date/],
        ['2017-6-28', '2017-06-29', /not a valid date/],
        ['2017-06-28 19', '2017-06-29', /not a valid date/],
        ['2017-06-28 19:34:14.1234567', '2017-06-29', /not a valid date/],
        ['2017-06-28 19:34:14.', '2017-06-29', /not a valid date/],
        ['2017-06-28T+02:00', '2017-06-29', /not a valid date/],
        ['yesterday', '2017-06-29', /not a valid date/],
        ['1498678454', '2017-06-29', /not a valid date/],
        ['2017-06-29', '2017-06-28', /after upper bound/],
        // Past 2^53 µs a number drops the last digit, and this lower > upper went unseen.
        ['2300-01-01T00:00:00.000001', '2300-01-01', SPAN],
        // Formatted past year 9999, this bound counted nothing on sqlite.
        ['2017-06-28', '9999-12-31T23:59:59.999999', SPAN],
        ['1684-07-28 00:12:25.259008', '2017-06-29', SPAN],
        ['1684-07-28', '2017-06-29', SPAN],
        ['2017-06-28', '2255-06-05 23:47:34.740992', SPAN],
        ['2017-06-28', '2255-06-06', SPAN],
      ])('rejects %s to %s with a 400', async (lower, upper, message) => {
        const response = await fetch(`${h.url}/dashboard/range/${encodeURIComponent(lower)}/${encodeURIComponent(upper)}`);
        expect(response.status).toBe(400);
        const body = await response.json();
        expect(body.error).toMatch(message);
        if (message.source.includes('valid')) expect(body.error).toMatch(/YYYY-MM-DD/);
      });
    });

    describe('offsets from UTC in range bounds', () => {
      it('reads +HH:MM and -HH:MM bounds as the instants they name, to the microsecond', async () => {
        h.now = T0; // 2017-06-28 19:34:14.486693 UTC
        await h.post(`/initial?uuid=${UUID_A}&symbol=k`);
        const count = async (lower: string, upper: string) =>
          ((await h.json(`/dashboard/range/${encodeURIComponent(lower)}/${encodeURIComponent(upper)}`)) as { count: number }[])[10]?.count;
        // The same instant at +02:00 and -05:30; a bound read as UTC would miss the event by hours.
        expect(await count('2017-06-28T21:34:14.486693+02:00', '2017-06-28T21:34:14.486694+02:00')).toBe(options.shapesOnly ? 0 : 1);
        expect(await count('2017-06-28T14:04:14.486693-05:30', '2017-06-28T14:04:14.486694-05:30')).toBe(options.shapesOnly ? 0 : 1);
        expect(await count('2017-06-28T21:34:14.486694+02:00', '2017-06-28T22:00+02:00')).toBe(0);
      });
    });

    describe('GET /dashboard/series/:lower/:upper', () => {
      type Series = { interval: string; tz: string; symbol: string | null; points: { start: string; count: number; followups: number }[] };
      const series = (path: string) => h.json(`/dashboard/series/${path}`) as Promise<Series>;
      const initialAt = async (uuid: string, symbol: string, ts: string) => {
        h.now = parseTimestamp(ts) as Micros;
        expect((await h.post(`/initial?uuid=${uuid}&symbol=${symbol}`)).status).toBe(200);
      };
      const counted = (count: number) => (options.shapesOnly ? 0 : count);

      it('answers the 25-hour day of Berlin at 1h: 02:00 twice, told apart by its offset, every hour present', async () => {
        await initialAt(UUID_A, 'e', '2026-10-25T02:30+02:00');
        await initialAt(UUID_B, 'k', '2026-10-25T02:00+01:00');
        h.now += 1;
        await h.post(`/followup?uuid=${UUID_B}`);
        const answer = await series('2026-10-25/2026-10-26?interval=1h&tz=Europe/Berlin');
        expect(Object.keys(answer)).toEqual(['interval', 'tz', 'symbol', 'points']);
        expect({ ...answer, points: answer.points.length }).toEqual({ interval: '1h', tz: 'Europe/Berlin', symbol: null, points: 25 });
        expect(answer.points.slice(1, 5)).toEqual([
          { start: '2026-10-25T01:00:00.000000+02:00', count: 0, followups: 0 },
          { start: '2026-10-25T02:00:00.000000+02:00', count: counted(1), followups: 0 },
          { start: '2026-10-25T02:00:00.000000+01:00', count: counted(1), followups: counted(1) },
          { start: '2026-10-25T03:00:00.000000+01:00', count: 0, followups: 0 },
        ]);
        expect(answer.points.at(-1)?.start).toBe('2026-10-25T23:00:00.000000+01:00');
        const letterK = await series('2026-10-25/2026-10-26?interval=1d&tz=Europe/Berlin&symbol=k');
        expect(letterK).toEqual({ interval: '1d', tz: 'Europe/Berlin', symbol: 'k', points: [{ start: '2026-10-25T00:00:00.000000+02:00', count: counted(1), followups: counted(1) }] });
      });

      it('cuts hours at :15 past the UTC hour in Asia/Kathmandu, with partial first and last buckets, and sums to the range dashboard', async () => {
        await initialAt(UUID_A, 'e', '2026-06-01 18:14:59.999999');
        await initialAt(UUID_B, 'e', '2026-06-01 18:15');
        const path = `${encodeURIComponent('2026-06-01 23:30:00.5')}/2026-06-02T01:00:00.000001?interval=1h&tz=Asia/Kathmandu`;
        const answer = await series(path);
        expect(answer.points).toEqual([
          { start: '2026-06-01T23:30:00.500000+05:45', count: counted(1), followups: 0 },
          { start: '2026-06-02T00:00:00.000000+05:45', count: counted(1), followups: 0 },
          { start: '2026-06-02T01:00:00.000000+05:45', count: 0, followups: 0 },
        ]);
        const range = (await h.json(`/dashboard/range/${encodeURIComponent('2026-06-01T23:30:00.5+05:45')}/${encodeURIComponent('2026-06-02T01:00:00.000001+05:45')}`)) as { count: number }[];
        expect(range[4]?.count).toBe(answer.points.reduce((sum, point) => sum + point.count, 0));
      });

      it('reads bounds without an offset in tz (UTC by default), and those with Z or an offset as they say', async () => {
        await initialAt(UUID_A, 'e', '2026-06-01 23:59:59.999999');
        expect((await series('2026-06-01/2026-06-02?interval=1d')).points).toEqual([{ start: '2026-06-01T00:00:00.000000+00:00', count: counted(1), followups: 0 }]);
        expect((await series('2026-06-02/2026-06-03?interval=1d&tz=Asia/Kolkata')).points).toEqual([{ start: '2026-06-02T00:00:00.000000+05:30', count: counted(1), followups: 0 }]);
        expect((await series('2026-06-02T00:00Z/2026-06-03Z?interval=1d&tz=Asia/Kolkata')).points[0]).toEqual({ start: '2026-06-02T05:30:00.000000+05:30', count: 0, followups: 0 });
        // A + right after the date is an encoded space; tz is echoed as given.
        const answer = await series('2026-06-02+05:29/2026-06-02T05:31+05:30?interval=1m&tz=Asia/Kolkata');
        expect(answer.points.map((point) => [point.start, point.count])).toEqual([
          ['2026-06-02T05:29:00.000000+05:30', counted(1)],
          ['2026-06-02T05:30:00.000000+05:30', 0],
        ]);
        expect(answer.tz).toBe('Asia/Kolkata');
      });

      it.each([
        ['2026-06-01/2026-06-02', /interval is required: use 1m, 10m, 1h, 1d/],
        ['2026-06-01/2026-06-02?interval=2h', /interval "2h" is not accepted: use 1m, 10m, 1h, 1d/],
        ['2026-06-01/2026-06-02?interval=1h&interval=1d', /interval must be given once/],
        ['2026-06-01/2026-06-02?interval=1h&tz=Europe/Nowhere', /tz "Europe\/Nowhere" is not a known time zone: use an IANA zone name/],
        ['2026-06-01/2026-06-02?interval=1h&tz=%2B05:30', /tz "\+05:30" is not a known time zone/],
        ['2026-06-01/2026-06-02?interval=1h&symbol=A', /symbol "A" is not accepted: give exactly one letter/],
        ['2026-06-02/2026-06-01?interval=1h', /is not before upper bound/],
        ['2026-06-01/2026-06-01?interval=1h', /is not before upper bound/],
        ['2026-02-30/2026-06-01?interval=1h', /lower "2026-02-30" is not a valid date/],
        ['2026-06-01/2300-01-01?interval=1d', SPAN],
        ['2026-01-01/2026-03-01?interval=1m', /more than 10000 points: use interval 10m, or a shorter range/],
        ['2026-01-01/2026-04-15?interval=10m', /more than 10000 points: use interval 1h, or a shorter range/],
        ['1800-01-01/2200-01-01?interval=1h', /more than 10000 points: use a shorter range/],
      ])('refuses %s with a 400 that says why', async (path, message) => {
        const response = await fetch(`${h.url}/dashboard/series/${path}`);
        expect(response.status).toBe(400);
        expect((await response.json()).error).toMatch(message);
      });
    });

    describe('GET /events', () => {
      const events = async (query: string, init?: RequestInit) => {
        const response = await fetch(`${h.url}/events${query}`, init);
        expect(response.status, `GET /events${query}`).toBe(200);
        return response;
      };
      const seedThree = async () => {
        h.now = T0;
        h.draws = [0.99];
        await h.post(`/initial?uuid=${UUID_A}&symbol=e`);
        h.now = T0 + 1;
        await h.post(`/followup?uuid=${UUID_A}`);
        h.now = T0 + 60_000_000;
        h.draws = [0.99];
        await h.post(`/initial?uuid=${UUID_B}&symbol=b`);
      };
      const lines = {
        initialA: `{"type":"initial","uuid":"${UUID_A}","symbol":"e","guess":true,"ts":"2017-06-28 19:34:14.486693"}`,
        followupA: `{"type":"followup","uuid":"${UUID_A}","ts":"2017-06-28 19:34:14.486694"}`,
        initialB: `{"type":"initial","uuid":"${UUID_B}","symbol":"b","guess":false,"ts":"2017-06-28 19:35:14.486693"}`,
      };

      it('streams the raw events oldest first as NDJSON, as npm run export prints them', async () => {
        await seedThree();
        const response = await events('');
        expect(response.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
        expect(response.headers.get('cache-control')).toBe('no-store');
        const expected = options.shapesOnly ? '' : [lines.initialA, lines.followupA, lines.initialB].join('\n') + '\n';
        expect(await response.text()).toBe(expected);
      });

      it('answers CSV with a header row and CRLF line ends, for format=csv or Accept: text/csv', async () => {
        await seedThree();
        const rows = options.shapesOnly
          ? []
          : [
              `initial,${UUID_A},e,true,2017-06-28 19:34:14.486693`,
              `followup,${UUID_A},,,2017-06-28 19:34:14.486694`,
              `initial,${UUID_B},b,false,2017-06-28 19:35:14.486693`,
            ];
        const expected = ['type,uuid,symbol,guess,ts', ...rows].map((row) => `${row}\r\n`).join('');
        for (const response of [await events('?format=csv'), await events('', { headers: { accept: 'text/csv' } })]) {
          expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
          expect(await response.text()).toBe(expected);
        }
      });

      it('takes a half-open range in the API formats, offsets included, with + typed as it is', async () => {
        await seedThree();
        // from = the followup's instant at +02:00, + not percent-encoded; to = the second initial, excluded.
        const text = await (await events('?from=2017-06-28T21:34:14.486694+02:00&to=2017-06-28T19:35:14.486693Z')).text();
        expect(text).toBe(options.shapesOnly ? '' : `${lines.followupA}\n`);
        const encoded = await (await events(`?from=${encodeURIComponent('2017-06-28 19:34:14.486694')}&to=2017-06-28T14:05:14.486694-05:30`)).text();
        expect(encoded).toBe(options.shapesOnly ? '' : `${lines.followupA}\n${lines.initialB}\n`);
      });

      it('takes bounds as standard encoders write them (URLSearchParams, an HTML form: + for a space)', async () => {
        await seedThree();
        const expected = options.shapesOnly ? '' : `${lines.followupA}\n`;
        const params = new URLSearchParams({ from: '2017-06-28 19:34:14.486694', to: '2017-06-28 21:35:14.486693+02:00' });
        expect(params.toString()).toContain('from=2017-06-28+19%3A34%3A14.486694');
        expect(await (await events(`?${params}`)).text()).toBe(expected);
        // Form-encoded by hand as application/x-www-form-urlencoded does: space as +, + as %2B.
        expect(await (await events('?from=2017-06-28+19:34:14.486694&to=2017-06-28+19:35:14.486693%2B00:00')).text()).toBe(expected);
        // The range's bounds are path segments: encodeURIComponent writes the space as %20, a form + stays a space.
        const range = (await h.json(`/dashboard/range/2017-06-28+19:34/${encodeURIComponent('2017-06-28 19:35')}`)) as { count: number }[];
        expect(range[4]?.count).toBe(options.shapesOnly ? 0 : 1);
      });

      it('answers HEAD with the headers of GET and no body', async () => {
        await seedThree();
        const response = await events('?format=csv', { method: 'HEAD' });
        expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
        expect(await response.text()).toBe('');
      });

      it.each([
        ['?from=2017-02-30', /from "2017-02-30" is not a valid date/],
        ['?to=2017-06-28++10:00', /to "2017-06-28\+\+10:00" is not a valid date/],
        ['?from=2017-06-29&to=2017-06-28', /from 2017-06-29 is after to 2017-06-28/],
        ['?format=xml', /format "xml" is unknown: use ndjson or csv/],
        ['?since=2017-06-28', /unknown parameter "since"/],
        ['?from=2017-06-28&from=2017-06-29', /from must be given once/],
        ['?from=%E0%A4%A', /percent-encoding/],
      ])('refuses %s with a 400 that says why', async (query, message) => {
        const response = await fetch(`${h.url}/events${query}`);
        expect(response.status).toBe(400);
        expect((await response.json()).error).toMatch(message);
      });
    });

    describe('bad input: a 4xx with a JSON error, and nothing stored', () => {
      const cases: [string, () => Promise<Response>, number, RegExp][] = [
        ['missing uuid', () => h.post('/initial?symbol=a'), 400, /uuid is required/],
        ['missing symbol', () => h.post(`/initial?uuid=${UUID_B}`), 400, /symbol is required/],
        ['malformed uuid', () => h.post('/initial?uuid=not-a-uuid&symbol=a'), 400, /canonical UUID/],
        ['uuid without dashes', () => h.post(`/initial?uuid=${UUID_B.replaceAll('-', '')}&symbol=a`), 400, /canonical UUID/],
        ['two letters', () => h.post(`/initial?uuid=${UUID_B}&symbol=ab`), 400, /exactly one letter/],
        ['upper-case letter', () => h.post(`/initial?uuid=${UUID_B}&symbol=A`), 400, /exactly one letter/],
        ['a digit', () => h.post(`/initial?uuid=${UUID_B}&symbol=1`), 400, /exactly one letter/],
        ['empty symbol', () => h.post(`/initial?uuid=${UUID_B}&symbol=`), 400, /exactly one letter/],
        ['uuid given twice', () => h.post(`/initial?uuid=${UUID_B}&uuid=${UUID_A}&symbol=a`), 400, /once/],
        ['query and body disagree', () => h.post(`/initial?uuid=${UUID_B}&symbol=a`, {
          headers: { 'content-type': 'application/json' }, body: JSON.stringify({ symbol: 'b' }) }), 400, /twice with different values/],
        ['symbol as a JSON number', () => h.post('/initial', {
          headers: { 'content-type': 'application/json' }, body: JSON.stringify({ uuid: UUID_B, symbol: 7 }) }), 400, /as a string/],
        ['malformed JSON', () => h.post('/initial', { headers: { 'content-type': 'application/json' }, body: '{"uuid":' }), 400, /not valid/],
        ['oversized body', () => h.post('/initial', {
          headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `uuid=${UUID_B}&symbol=a&pad=${'x'.repeat(10_000)}` }), 413, /too large/],
        ['text body', () => h.post(`/initial?uuid=${UUID_B}&symbol=a`, { headers: { 'content-type': 'text/plain' }, body: 'a' }), 415, /unsupported body type/],
        ['followup with a malformed uuid', () => h.post('/followup?uuid=zzz'), 400, /canonical UUID/],
        ['followup without uuid', () => h.post('/followup'), 400, /uuid is required/],
        ['GET /initial', () => fetch(`${h.url}/initial?uuid=${UUID_B}&symbol=a`), 405, /accepts POST/],
        ['unknown route', () => h.post('/initials'), 404, /no route/],
        ['unknown dashboard letter', () => fetch(`${h.url}/dashboard/symbol/ae`), 400, /exactly one letter/],
        ['series in an unknown zone', () => fetch(`${h.url}/dashboard/series/2017-06-28/2017-06-29?interval=1h&tz=Mars/Olympus`), 400, /not a known time zone/],
        ['series of too many points', () => fetch(`${h.url}/dashboard/series/2017-06-28/2017-07-28?interval=1m`), 400, /use interval 10m/],
        ['POST to a series', () => h.post('/dashboard/series/2017-06-28/2017-06-29?interval=1h'), 405, /accepts GET/],
        ['bad percent-encoding', () => fetch(`${h.url}/dashboard/symbol/%E0%A4%A`), 400, /./],
      ];

      it.each(cases)('%s', async (_label, send, status, message) => {
        await h.post(`/initial?uuid=${UUID_A}&symbol=a`);
        const before = await snapshot(h);
        const writes = h.writes;
        const response = await send();
        expect(response.status).toBe(status);
        expect(response.headers.get('content-type')).toMatch(/^application\/json/);
        expect((await response.json()).error).toMatch(message);
        expect(h.writes, 'events offered to the interface').toBe(writes);
        expect(await snapshot(h)).toEqual(before);
      });
    });

    describe('operations', () => {
      it('GET /healthz says the server is up and the backend answers', async () => {
        expect(await h.json('/healthz')).toEqual({ up: true, interface: data.name, backend: 'up' });
      });

      it('GET /metrics counts requests per route in the Prometheus format', async () => {
        await h.post(`/initial?uuid=${UUID_A}&symbol=a`);
        const text = await (await fetch(`${h.url}/metrics`)).text();
        expect(text).toMatch(/http_requests_total\{method="POST",route="\/initial",status="200"\} 1/);
        expect(text).toMatch(/http_request_duration_seconds_bucket\{le="0.005",method="POST",route="\/initial"\}/);
        // A backend with measures of its own reports them: mariadb-redis its batches and its view's trail.
        if (data.onMetric) {
          expect(text).toMatch(/^backend_batch_events_count 1$/m);
          expect(text).toMatch(/^backend_batch_commit_seconds_bucket\{le="\+Inf"\} 1$/m);
          expect(text).toMatch(/^backend_view_trail_batches \d+$/m);
        } else {
          expect(text).not.toMatch(/backend_/);
        }
      });
    });
  });
}

/** The interface, counting in h.writes the events offered to it (the null interface keeps no trace of them). */
function countingWrites(data: DataInterface, h: Harness): DataInterface {
  return {
    name: data.name,
    recordInitial: (event) => {
      h.writes++;
      return data.recordInitial(event);
    },
    recordFollowup: (event) => {
      h.writes++;
      return data.recordFollowup(event);
    },
    symbolAggregate: (symbol) => data.symbolAggregate(symbol),
    symbolAggregates: () => data.symbolAggregates(),
    rangeAggregates: (lower, upper) => data.rangeAggregates(lower, upper),
    series: (query) => data.series(query),
    exportEvents: (range) => data.exportEvents(range),
    loadEvents: (events) => data.loadEvents(events),
    ping: () => data.ping(),
    close: () => data.close(),
    ...(data.onMetric ? { onMetric: data.onMetric.bind(data) } : {}),
  };
}

/** Everything the dashboards say: to prove a rejected request changed nothing. */
async function snapshot(h: Harness): Promise<unknown[]> {
  const symbols = await Promise.all(LETTERS.map((letter) => h.json(`/dashboard/symbol/${letter}`)));
  return [symbols, await h.json(ALL_TIME)];
}

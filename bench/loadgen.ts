// The load generator in a process of its own, so that the bench's event loop does not share it:
// `node bench/loadgen.ts URL SCENARIO SECONDS CONNECTIONS TIMEOUT_SECONDS` runs one autocannon run
// and prints its Measurement as JSON.

import { measure, type Scenario } from './scenarios.ts';

const [url, scenario, seconds, connections, timeoutSeconds] = process.argv.slice(2);
const result = await measure(url as string, scenario as Scenario, { seconds: Number(seconds), connections: Number(connections), timeoutSeconds: Number(timeoutSeconds) });
process.stdout.write(`${JSON.stringify(result)}\n`);

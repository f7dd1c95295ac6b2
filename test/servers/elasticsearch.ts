// A throwaway Elasticsearch node for tests: the JVM of elasticsearch/search-node.sh started directly
// (so kill('SIGKILL') hits the node itself), bound to 127.0.0.1 on free ports, its data in a fresh
// folder under os.tmpdir(), heap bounded. Ready once the cluster is green.
//
//   const node = await startElasticsearch();
//   node.url                      // http://127.0.0.1:PORT
//   await node.kill('SIGKILL'); await node.restart();   // same port and data: the indices recover
//   await node.stop();            // kills it and removes its folder

import fs from 'node:fs';
import path from 'node:path';
import {
  findBinary,
  freePort,
  inTempDir,
  launchOnFreePort,
  MissingBinaryError,
  spawnManaged,
  stopProcess,
  waitUntil,
  ServerProcess,
  type ManagedProcess,
  type ManagedServer,
} from './process.ts';

const NODE_FOLDER = path.join(import.meta.dirname, '..', '..', 'elasticsearch');
const CLASSPATH_FILE = path.join(NODE_FOLDER, 'target', 'classpath.txt');

export const ELASTICSEARCH_MISSING_MESSAGE =
  'the Elasticsearch node is not built: run `bash elasticsearch/search-node.sh --prepare` (needs Java 17 and Maven; ' +
  'provision/install.sh installs them and runs it), which resolves Elasticsearch 7.10.2 from Maven Central';

export interface ElasticsearchServer extends ManagedServer {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** One request to the node's REST API; resolves with the parsed answer, rejects on a status >= 400. */
  request(method: string, route: string, body?: unknown): Promise<unknown>;
}

export interface ElasticsearchOptions {
  /** -Xmx (default 512m). */
  heap?: string;
  /** How long a start may take (default 120 s: a cold JVM on a busy machine). */
  startTimeoutMs?: number;
}

/** The node's classpath (target/classes and the resolved jars); a MissingBinaryError when not prepared. */
export function searchNodeClasspath(): string {
  let jars: string;
  try {
    jars = fs.readFileSync(CLASSPATH_FILE, 'utf8').trim();
  } catch {
    throw new MissingBinaryError(`${ELASTICSEARCH_MISSING_MESSAGE} [no ${CLASSPATH_FILE}]`);
  }
  return `${path.join(NODE_FOLDER, 'target', 'classes')}:${jars}`;
}

export async function startElasticsearch(options: ElasticsearchOptions = {}): Promise<ElasticsearchServer> {
  const java = findBinary(['java'], `Java not found: ${ELASTICSEARCH_MISSING_MESSAGE}`);
  const classpath = searchNodeClasspath();
  return inTempDir('elasticsearch', async (dir) => {
    const launch = async (port: number): Promise<ManagedProcess> => {
      const transportPort = await freePort({ avoid: [port] });
      const args = [
        `-Xmx${options.heap ?? '512m'}`, '-Xms256m', '-XX:+UseSerialGC',
        '-cp', classpath, 'eventanalytics.SearchNode', String(port), String(transportPort), path.join(dir, 'node'),
      ];
      const proc = spawnManaged(`elasticsearch 127.0.0.1:${port}`, java, args, { cwd: dir, outputFile: path.join(dir, 'node.log'), marker: dir });
      try {
        await waitUntil(`Elasticsearch on 127.0.0.1:${port} to be green`, proc, async () => {
          const health = (await esRequest(port, 'GET', '/_cluster/health?wait_for_status=green&timeout=1s')) as { status?: string };
          return health.status === 'green';
        }, { timeoutMs: options.startTimeoutMs ?? 120_000, intervalMs: 250 });
      } catch (error) {
        await stopProcess(proc, { signal: 'SIGKILL' });
        throw error;
      }
      return proc;
    };
    return new TestElasticsearch(dir, await launchOnFreePort(launch), launch);
  });
}

class TestElasticsearch extends ServerProcess implements ElasticsearchServer {
  readonly url: string;

  constructor(dir: string, launched: { port: number; proc: ManagedProcess }, launch: (port: number) => Promise<ManagedProcess>) {
    super(dir, launched, launch);
    this.url = `http://127.0.0.1:${this.port}`;
  }

  request(method: string, route: string, body?: unknown): Promise<unknown> {
    return esRequest(this.port, method, route, body);
  }
}

async function esRequest(port: number, method: string, route: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${port}${route}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (response.status >= 400) throw new Error(`Elasticsearch ${method} ${route}: ${response.status} ${text}`);
  return text === '' ? undefined : JSON.parse(text);
}

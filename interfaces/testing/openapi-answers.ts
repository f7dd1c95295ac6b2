// Every answer a test server gives, held to the OpenAPI document (server/openapi.json): its path and
// method are documented (else a 404, or a 405 with Allow, as the document says), its status is
// documented for that operation, its required headers are there, and its body is of a documented
// media type and matches that type's schema (JSON; NDJSON line by line; text as a string). The
// schemas are checked by Ajv (JSON Schema 2020-12, OpenAPI 3.1's dialect).

import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { Ajv2020 } from 'ajv/dist/2020.js';
import document from '../../server/openapi.json' with { type: 'json' };

/** One answer as the client got it. */
export interface Answer {
  method: string;
  /** The request's path, without the query. */
  path: string;
  status: number;
  headers: Record<string, number | string | string[] | undefined>;
  body: string;
}

type Json = Record<string, unknown>;
const ajv = new Ajv2020({ strict: false, allErrors: false });
ajv.addSchema(document, 'api');

/** The schema at JSON pointer `pointer` of the document, compiled once. */
const validators = new Map<string, ReturnType<typeof ajv.compile>>();
function validatorAt(pointer: string) {
  let validate = validators.get(pointer);
  if (!validate) {
    validate = ajv.compile({ $ref: `api#${pointer}` });
    validators.set(pointer, validate);
  }
  return validate;
}

const escape = (key: string) => key.replaceAll('~', '~0').replaceAll('/', '~1');
/** An object of the document and its pointer, following one $ref. */
function resolve(value: Json, pointer: string): [Json, string] {
  const ref = value.$ref;
  if (typeof ref !== 'string') return [value, pointer];
  const target = ref.slice(2).split('/').reduce<unknown>((at, key) => (at as Json)[key.replaceAll('~1', '/').replaceAll('~0', '~')], document);
  return [target as Json, ref.slice(1)];
}

const paths = Object.keys(document.paths).map((template) => ({
  template,
  pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
}));
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** What is wrong with `answer` against the document; empty when nothing is. */
export function violations(answer: Answer): string[] {
  const what = `${answer.method} ${answer.path} → ${answer.status}`;
  const found: string[] = [];
  const item = paths.find(({ pattern }) => pattern.test(answer.path));
  const operations = item ? (document.paths[item.template as keyof typeof document.paths] as Json) : {};
  const method = answer.method.toLowerCase();
  // HEAD of a GET operation is that operation without a body (HTTP's own rule).
  const operationKey = method in operations ? method : method === 'head' && 'get' in operations ? 'get' : undefined;
  if (!item || !operationKey) {
    const expected = item ? 405 : 404;
    if (answer.status !== expected) return [`${what}: ${item ? 'the method is not documented for this path' : 'the path is not documented'}, so only a ${expected} is`];
    if (expected === 405) {
      const allow = String(answer.headers.allow ?? '');
      const documented = METHODS.filter((m) => m in operations).map((m) => m.toUpperCase());
      for (const m of documented) if (!allow.includes(m)) found.push(`${what}: Allow "${allow}" lacks ${m}`);
    }
    // Both with the Error body, as documented for a 404.
    return [...found, ...bodyViolations(what, answer, document.components.responses.NotFound.content, '/components/responses/NotFound/content')];
  }
  const operationPointer = `/paths/${escape(item.template)}/${operationKey}`;
  const responses = (operations[operationKey] as Json).responses as Json;
  const key = String(answer.status) in responses ? String(answer.status) : 'default' in responses ? 'default' : undefined;
  if (!key) return [`${what}: status ${answer.status} is not documented for ${operationKey.toUpperCase()} ${item.template}`];
  const [response, responsePointer] = resolve(responses[key] as Json, `${operationPointer}/responses/${key}`);
  for (const [name, declared] of Object.entries((response.headers ?? {}) as Json)) {
    const [header, headerPointer] = resolve(declared as Json, `${responsePointer}/headers/${escape(name)}`);
    const value = answer.headers[name.toLowerCase()];
    if (value === undefined) {
      if (header.required) found.push(`${what}: header ${name} is missing`);
      continue;
    }
    const text = String(value);
    const validate = validatorAt(`${headerPointer}/schema`);
    if (!validate(/^\d+$/.test(text) ? Number(text) : text)) found.push(`${what}: header ${name} "${text}": ${ajv.errorsText(validate.errors)}`);
  }
  if (answer.method === 'HEAD') return found;
  return [...found, ...bodyViolations(what, answer, (response.content ?? {}) as Json, `${responsePointer}/content`)];
}

function bodyViolations(what: string, answer: Answer, content: Json, contentPointer: string): string[] {
  if (Object.keys(content).length === 0) return answer.body === '' ? [] : [`${what}: a body where none is documented`];
  const type = String(answer.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
  if (!(type in content)) return [`${what}: Content-Type "${type}" is not documented (${Object.keys(content).join(', ')})`];
  const media = content[type] as Json;
  let values: unknown[];
  try {
    if (type === 'application/json') values = [JSON.parse(answer.body)];
    else if (type === 'application/x-ndjson') values = answer.body.split('\n').filter(Boolean).map((line) => JSON.parse(line));
    else values = [answer.body];
  } catch (error) {
    return [`${what}: the ${type} body does not parse: ${(error as Error).message}`];
  }
  const pointer = `${contentPointer}/${escape(type)}/${type === 'application/x-ndjson' && media['x-item-schema'] ? 'x-item-schema' : 'schema'}`;
  const validate = validatorAt(pointer);
  return values.flatMap((value) => (validate(value) ? [] : [`${what}: ${JSON.stringify(value).slice(0, 200)}: ${ajv.errorsText(validate.errors)}`]));
}

/** `app` with every answer it finishes passed to `record` (the body as sent, up to 1 MB). */
export function recordingAnswers(app: RequestListener, record: (answer: Answer) => void): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const keep = (chunk: unknown, encoding?: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function' || size > 1 << 20) return;
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
      size += buffer.length;
      chunks.push(buffer);
    };
    const [write, end] = [res.write.bind(res), res.end.bind(res)];
    res.write = ((chunk: unknown, ...rest: unknown[]) => (keep(chunk, rest[0]), (write as (...args: unknown[]) => boolean)(chunk, ...rest))) as typeof res.write;
    res.end = ((chunk?: unknown, ...rest: unknown[]) => (keep(chunk, rest[0]), (end as (...args: unknown[]) => ServerResponse)(chunk, ...rest))) as typeof res.end;
    // Read now: routers mounted on a prefix rewrite req.url.
    const [method, path] = [req.method ?? '', new URL(req.url ?? '/', 'http://localhost').pathname];
    res.once('finish', () => record({ method, path, status: res.statusCode, headers: res.getHeaders(), body: Buffer.concat(chunks).toString('utf8') }));
    app(req, res);
  };
}

// For the tests: an event stream read from Node, its frames collected as they arrive.

export interface StreamListener {
  response: Response;
  /** Each frame's text, without the blank line that ends it. */
  frames: string[];
  /** Resolves when the server ended the stream (or close() cut it). */
  ended: Promise<void>;
  close(): void;
}

export async function listen(url: string): Promise<StreamListener> {
  const aborter = new AbortController();
  const response = await fetch(url, { signal: aborter.signal });
  const frames: string[] = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const ended = (async () => {
    let buffer = '';
    try {
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        buffer += chunk.value;
        const parts = buffer.split('\n\n');
        buffer = parts.pop() ?? '';
        frames.push(...parts);
      }
    } catch {
      // close() aborted the read
    }
  })();
  return { response, frames, ended, close: () => aborter.abort() };
}

/** The data of the last `update` frame, parsed. */
export function lastUpdate(listener: StreamListener): unknown {
  const frame = listener.frames.findLast((text) => text.startsWith('event: update\n'));
  return frame === undefined ? undefined : JSON.parse(frame.slice(frame.indexOf('\ndata: ') + 7));
}

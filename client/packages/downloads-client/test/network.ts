// A lossy network between the client and the real service: streams cut mid-job, events lost on the way.
// The service is untouched; only what reaches the client changes.
import WebSocket from 'ws';
import type { FetchLike, JobEvent } from '../src';

const SEPARATOR = '\x1e';

/** Passes each incoming SignalR frame through `edit` (messages split at the record separator). */
function editsHubFrames(edit: (messages: string[], socket: WebSocket) => string[]): typeof WebSocket {
  return class extends WebSocket {
    override emit(event: string | symbol, ...args: unknown[]): boolean {
      if (event !== 'message') return super.emit(event, ...args);
      const kept = edit(String(args[0]).split(SEPARATOR), this).join(SEPARATOR);
      // ws 7 hands text frames over as strings.
      return kept ? super.emit(event, typeof args[0] === 'string' ? kept : Buffer.from(kept), ...args.slice(1)) : false;
    }
  };
}

/** A WebSocket that counts the connections opened with it. */
export function countsSockets(): { WebSocket: typeof WebSocket; opened: () => number } {
  let opened = 0;
  const Counting = class extends WebSocket {
    constructor(address: string, protocols?: string | string[], options?: WebSocket.ClientOptions) {
      super(address, protocols, options);
      opened++;
    }
  };
  return { WebSocket: Counting as unknown as typeof WebSocket, opened: () => opened };
}

/** A WebSocket (for SignalR's `WebSocket` option) that loses the `index`-th `update` message (0: the snapshot). */
export function dropsHubUpdate(index: number): typeof WebSocket {
  let updates = 0;
  return editsHubFrames((messages) => messages.filter((m) => !(m.includes('"target":"update"') && updates++ === index)));
}

/** A WebSocket whose first connection is cut (like a dropped network) after `count` `update` messages. */
export function cutsHubAfter(count: number): { WebSocket: typeof WebSocket; cuts: () => number } {
  let cuts = 0;
  let updates = 0;
  const socket = editsHubFrames((messages, ws) => {
    if (cuts > 0) return messages;
    updates += messages.filter((m) => m.includes('"target":"update"')).length;
    if (updates >= count) {
      cuts++;
      ws.terminate();
    }
    return messages;
  });
  return { WebSocket: socket, cuts: () => cuts };
}

export interface HubTap {
  WebSocket: typeof WebSocket;
  /** Every `update` that reached the client, in order. */
  updates: JobEvent[];
  cuts: () => number;
  /** How many updates had arrived when the connection was cut. */
  cutAt: () => number;
}

/** A WebSocket that records every `update` it hands to SignalR, and cuts its first connection after `cutAfter` of them. */
export function tapsHub(cutAfter = Number.POSITIVE_INFINITY): HubTap {
  const updates: JobEvent[] = [];
  let cuts = 0;
  let cutAt = 0;
  const socket = editsHubFrames((messages, ws) => {
    for (const message of messages) {
      if (message.includes('"target":"update"')) updates.push((JSON.parse(message) as { arguments: JobEvent[] }).arguments[0]);
    }
    if (cuts === 0 && updates.length >= cutAfter) {
      cuts++;
      cutAt = updates.length;
      ws.terminate();
    }
    return messages;
  });
  return { WebSocket: socket, updates, cuts: () => cuts, cutAt: () => cutAt };
}

export interface EventStreamTap {
  fetch: FetchLike;
  /** `Last-Event-ID` of each events request (null when absent). */
  lastEventIds: (string | null)[];
}

/** A fetch whose SSE answers pass `edit`, which sees every whole event block and the request's index. */
function editsEventStream(edit: (block: string, request: number, index: number) => 'keep' | 'drop' | 'cut'): EventStreamTap {
  const lastEventIds: (string | null)[] = [];
  const fetchImpl: FetchLike = async (input, init) => {
    const response = await globalThis.fetch(input, init);
    if (!input.includes('/v1/download/events/') || !response.body) return response;
    const request = lastEventIds.length;
    lastEventIds.push(new Headers(init?.headers).get('Last-Event-ID'));
    const decoder = new TextDecoder();
    const encoder = new TextEncoder();
    let buffer = '';
    let index = 0;
    const body = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          buffer += decoder.decode(chunk, { stream: true });
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end + 2);
            buffer = buffer.slice(end + 2);
            const verdict = block.startsWith(':') ? 'keep' : edit(block, request, index++);
            if (verdict === 'cut') {
              controller.terminate();
              return;
            }
            if (verdict === 'keep') controller.enqueue(encoder.encode(block));
          }
        },
      }),
    );
    return new Response(body, { status: response.status, headers: response.headers });
  };
  return { fetch: fetchImpl, lastEventIds };
}

/** Loses the `index`-th event of the first SSE stream (0: the snapshot). */
export function dropsStreamEvent(index: number): EventStreamTap {
  return editsEventStream((_block, request, i) => (request === 0 && i === index ? 'drop' : 'keep'));
}

/** Cuts the first SSE stream after `count` events, as a proxy closing the connection would. */
export function cutsStreamAfter(count: number): EventStreamTap {
  return editsEventStream((_block, request, index) => (request === 0 && index >= count ? 'cut' : 'keep'));
}

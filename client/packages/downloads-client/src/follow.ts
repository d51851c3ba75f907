// Follows one job to its end over the best transport that works: the SignalR hub (WebSockets, then
// Server-Sent Events, then long polling, as negotiated; one connection shared by every job of the client, see
// hubShare.ts), the plain SSE stream, or REST polling. Reconnects with backoff and replay (`SubscribeFrom` on the
// hub, `Last-Event-ID` on the stream), polls while the hub cannot be reached, and re-syncs from the status document
// on a gap. Every event passes sequence.ts.
import { delay, isFatal, type Credentials, type Http } from './http.js';
import { parseHubTransport, type HubOptions, type HubTransportName } from './hub.js';
import type { HubShare, HubSubscriber } from './hubShare.js';
import type { TransportName } from './jobState.js';
import { EMPTY_SEQUENCE, gapExpired, receive, resync, type Sequence, type Step } from './sequence.js';
import { readEventStream } from './sse.js';
import type { JobEvent, StatusDocument } from './types.js';

/** `auto`: the hub as negotiated, REST polling while it cannot be reached. Any other name: only that transport. */
export type TransportChoice = 'auto' | TransportName;

export interface FollowOptions {
  transport?: TransportChoice;
  /** Stops following; the iteration then ends without an error. */
  signal?: AbortSignal;
}

/** Timings of the follower; the defaults suit browsers behind ordinary proxies. */
export interface FollowTimings {
  /** Polling period while the hub cannot be reached (default 2000 ms). */
  pollIntervalMs: number;
  /** How long events past a gap wait for the missing ones before a re-sync (default 1000 ms). */
  gapHoldMs: number;
  /** A status check while connected, in case a terminal event was lost; 0 turns it off (default 15000 ms). */
  safetyPollMs: number;
  /** Waits between reconnect attempts that fail, the last one repeating; ±20 % jitter. */
  reconnectDelaysMs: readonly number[];
}

export const DEFAULT_TIMINGS: FollowTimings = {
  pollIntervalMs: 2000,
  gapHoldMs: 1000,
  safetyPollMs: 15_000,
  reconnectDelaysMs: [1000, 2000, 5000, 10_000, 20_000, 30_000],
};

/** What the client hands a follower. */
export interface FollowContext {
  http: Http;
  credentials: Credentials;
  timings: FollowTimings;
  hubOptions?: HubOptions;
  /** The client's shared hub connection for a transport choice (null: as negotiated). */
  hubShare(transport: HubTransportName | null): HubShare;
}

export type EventSink = (event: JobEvent, transport: TransportName) => void;

export class Follower {
  private sequence: Sequence = EMPTY_SEQUENCE;
  private readonly stop = new AbortController();
  private failure: unknown = null;
  private gapTimer: ReturnType<typeof setTimeout> | null = null;
  private resyncing = false;

  constructor(
    private readonly context: FollowContext,
    private readonly jobId: string,
    private readonly options: FollowOptions,
    private readonly sink: EventSink,
  ) {
    const external = options.signal;
    if (external?.aborted) this.stop.abort();
    external?.addEventListener('abort', () => this.stop.abort(), { once: true });
  }

  private get done(): boolean {
    return this.stop.signal.aborted;
  }

  /** Ends the follower (from the consumer's side). */
  cancel(): void {
    this.stop.abort();
  }

  /** Resolves after the terminal event (or cancel); rejects on a fatal error (unknown job, refused credentials). */
  async run(): Promise<void> {
    try {
      await this.loop();
    } finally {
      if (this.gapTimer) clearTimeout(this.gapTimer);
      this.stop.abort();
    }
    if (this.failure) throw this.failure;
  }

  private async loop(): Promise<void> {
    const choice = this.options.transport ?? 'auto';
    if (choice === 'Polling') {
      await this.poll(Number.POSITIVE_INFINITY);
      return;
    }
    let failures = 0;
    while (!this.done) {
      let delivered = false;
      try {
        delivered = choice === 'EventStream' ? await this.runEventStream() : await this.runHub(choice);
      } catch (error) {
        if (isFatal(error)) this.fail(error);
        // Anything else (refused, dropped, a proxy in the way): poll, then try again.
      }
      if (this.done) return;
      // A connection that delivered and then dropped is retried at once: the reconnect replays what it missed.
      failures = delivered ? 0 : failures + 1;
      if (failures > 0) await this.poll(this.backoff(failures), 'Polling');
    }
  }

  private backoff(failures: number): number {
    const delays = this.context.timings.reconnectDelaysMs;
    const base = delays[Math.min(failures - 1, delays.length - 1)] ?? 1000;
    return Math.round(base * (0.8 + 0.4 * Math.random()));
  }

  private fail(error: unknown): void {
    this.failure ??= error;
    this.stop.abort();
  }

  // ---- events ---------------------------------------------------------------------------------

  private apply(step: Step, transport: TransportName): void {
    this.sequence = step.sequence;
    for (const event of step.accepted) this.sink(event, transport);
    if (this.sequence.ended) this.stop.abort();
    else this.watchGap();
  }

  private receive(event: JobEvent, transport: TransportName): void {
    if (this.done || !event || event.job_id?.toLowerCase() !== this.jobId) return;
    this.apply(receive(this.sequence, event, Date.now()), transport);
  }

  private watchGap(): void {
    if (this.sequence.gapSince === null || this.gapTimer) return;
    const wait = Math.max(0, this.sequence.gapSince + this.context.timings.gapHoldMs - Date.now());
    this.gapTimer = setTimeout(() => {
      this.gapTimer = null;
      if (gapExpired(this.sequence, Date.now(), this.context.timings.gapHoldMs)) void this.refresh(null);
      else this.watchGap();
    }, wait);
  }

  /** GETs the status document and applies it (a re-sync); fatal answers end the follower. */
  private async refresh(transport: TransportName | null): Promise<void> {
    if (this.resyncing || this.done) return;
    this.resyncing = true;
    try {
      const doc = await this.context.http.json<StatusDocument>(`/v1/download/status/${this.jobId}`, this.context.credentials, {
        signal: this.stop.signal,
      });
      if (!this.done) this.apply(resync(this.sequence, { ...doc, job_id: doc.job_id.toLowerCase() }, Date.now()), transport ?? 'Polling');
    } catch (error) {
      if (isFatal(error)) this.fail(error);
    } finally {
      this.resyncing = false;
    }
  }

  /** Polls the status document for `durationMs` (at least once), or until the job ends. */
  private async poll(durationMs: number, label?: TransportName): Promise<void> {
    const until = Date.now() + durationMs;
    for (;;) {
      await this.refresh(label ?? null);
      const left = until - Date.now();
      if (this.done || left <= 0) return;
      await delay(Math.min(this.context.timings.pollIntervalMs, left), this.stop.signal);
    }
  }

  /** While connected: a slow status check, in case a terminal event was lost on the way. */
  private safetyPoll(transport: TransportName): () => void {
    const period = this.context.timings.safetyPollMs;
    if (period <= 0) return () => undefined;
    const timer = setInterval(() => void this.refresh(transport), period);
    return () => clearInterval(timer);
  }

  // ---- transports -----------------------------------------------------------------------------

  /** This job on the client's shared hub connection (replaying after its seq on a reconnect); true when it delivered an event. */
  private async runHub(choice: TransportChoice): Promise<boolean> {
    const forced = choice === 'auto' ? null : parseHubTransport(choice);
    if (choice !== 'auto' && !forced) throw new Error(`Unknown transport ${choice}.`);
    let delivered = false;
    let transport: TransportName = forced ?? 'WebSockets';
    let closed: () => void = () => undefined;
    const closing = new Promise<void>((resolve) => (closed = resolve));
    const subscriber: HubSubscriber = {
      jobId: this.jobId,
      seq: () => this.sequence.seq,
      accessToken: this.context.credentials.accessToken,
      onEvent: (event, negotiated) => {
        delivered = true;
        transport = negotiated;
        this.receive(event, negotiated);
      },
      onClosed: () => closed(),
    };
    const share = this.context.hubShare(forced);
    const stopped = new Promise<void>((resolve) => this.stop.signal.addEventListener('abort', () => resolve(), { once: true }));
    try {
      const attaching = share.attach(subscriber);
      // An attach that fails after this follower stopped has nobody to tell.
      attaching.catch(() => undefined);
      await Promise.race([attaching, stopped]);
      const stopSafetyPoll = this.safetyPoll(transport);
      try {
        await Promise.race([closing, stopped]);
      } finally {
        stopSafetyPoll();
      }
    } finally {
      share.detach(subscriber);
    }
    return delivered;
  }

  /** One plain SSE stream (`GET /v1/download/events/{job_id}`, resuming with `Last-Event-ID`). */
  private async runEventStream(): Promise<boolean> {
    const headers = new Headers({ Accept: 'text/event-stream' });
    if (this.sequence.seq > 0) headers.set('Last-Event-ID', String(this.sequence.seq));
    const response = await this.context.http.send(
      `/v1/download/events/${this.jobId}`,
      this.context.credentials,
      { headers, signal: this.stop.signal },
      (status) => status === 200 || status === 204,
    );
    // 204: the job has ended and this client has every event; the status document says how it ended.
    if (response.status === 204 || !response.body) {
      await this.refresh('EventStream');
      return true;
    }
    let delivered = false;
    const stopSafetyPoll = this.safetyPoll('EventStream');
    try {
      await readEventStream(response.body, (message) => {
        if (!message.data) return;
        delivered = true;
        this.receive(JSON.parse(message.data) as JobEvent, 'EventStream');
      }, this.stop.signal);
    } finally {
      stopSafetyPoll();
    }
    return delivered;
  }
}

/** Turns a follower into an AsyncIterable of the events it passes on, ending after the terminal one. */
export function iterate(start: (sink: EventSink, signal: AbortSignal) => Follower): AsyncIterable<JobEvent> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<JobEvent> {
      const queue: JobEvent[] = [];
      let wake: (() => void) | null = null;
      let finished = false;
      let failure: unknown = null;
      const abort = new AbortController();
      const follower = start((event) => {
        queue.push(event);
        wake?.();
      }, abort.signal);
      follower
        .run()
        .catch((error: unknown) => {
          failure = error;
        })
        .finally(() => {
          finished = true;
          wake?.();
        });
      return {
        async next(): Promise<IteratorResult<JobEvent>> {
          for (;;) {
            const event = queue.shift();
            if (event) return { value: event, done: false };
            if (finished) {
              if (failure) throw failure;
              return { value: undefined, done: true };
            }
            await new Promise<void>((resolve) => (wake = resolve));
            wake = null;
          }
        },
        async return(): Promise<IteratorResult<JobEvent>> {
          abort.abort();
          return { value: undefined, done: true };
        },
      };
    },
  };
}

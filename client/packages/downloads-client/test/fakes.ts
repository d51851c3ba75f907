// Test doubles for the tracker's unit tests: an in-memory Storage, a fake download service behind `fetch`, and a
// fake hub. (The rest of the package's tests run against the real service.)
import type { FileResult, HubLike, HubMethod, HubTransportName, JobEvent, JobStatusValue, StatusDocument } from '../src';

export const JOB_A = '3f0c2a6e-1b2c-4d5e-8f90-a1b2c3d4e5f6';
export const JOB_B = '7a1d9e0c-2b3c-4d5e-9f01-b2c3d4e5f6a7';

export class MemoryStorage {
  private readonly map = new Map<string, string>();
  getItem(key: string): string | null {
    return this.map.has(key) ? this.map.get(key)! : null;
  }
  setItem(key: string, value: string): void {
    this.map.set(key, String(value));
  }
  removeItem(key: string): void {
    this.map.delete(key);
  }
}

export function file(file_id: number, status: FileResult['status'], extra: Partial<FileResult> = {}): FileResult {
  return { file_id, status, download_url: null, size: null, sha256: null, attempts: 0, error_code: null, error: null, ...extra };
}

export function files(ids: number[], status: FileResult['status'] = 'pending'): FileResult[] {
  return ids.map((id) => file(id, status));
}

export function statusDoc(jobId: string, seq: number, status: JobStatusValue, results: FileResult[], extra: Partial<StatusDocument> = {}): StatusDocument {
  const completed = results.filter((r) => r.status === 'completed').length;
  const failed = results.filter((r) => r.status === 'failed').length;
  const total = results.length;
  return {
    job_id: jobId,
    status,
    seq,
    created_at: '2026-11-28T10:00:00Z',
    started_at: status === 'queued' ? null : '2026-11-28T10:00:01Z',
    completed_at: null,
    progress: { completed, failed, total, percent: total ? ((completed + failed) * 100) / total : 0, current_file: null },
    results,
    expires_at: null,
    webhook: null,
    ...extra,
  };
}

export function event(jobId: string, seq: number, partial: Partial<JobEvent> = {}): JobEvent {
  return {
    type: 'progress',
    job_id: jobId,
    seq,
    status: 'processing',
    completed: 0,
    failed: 0,
    total: 4,
    current_file: null,
    progress_percent: 0,
    ...partial,
  };
}

function json(status: number, body: unknown, contentType = 'application/json'): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': contentType } });
}

/** A fake download service: holds status documents; records every request. */
export class FakeServer {
  readonly docs = new Map<string, StatusDocument>();
  readonly requests: { method: string; url: string; body?: string }[] = [];
  nextJobIds: string[] = [];
  down = false;
  /** Answer initiate as a service with API keys does: an access_token, carried by every URL. */
  accessTokens = false;

  statusGets(jobId?: string): number {
    return this.requests.filter((r) => r.method === 'GET' && r.url.includes('/status/') && (!jobId || r.url.endsWith(jobId))).length;
  }

  fetch = async (input: string, init: RequestInit = {}): Promise<Response> => {
    const method = (init.method ?? 'GET').toUpperCase();
    this.requests.push({ method, url: input, body: typeof init.body === 'string' ? init.body : undefined });
    if (this.down) throw new TypeError('Failed to fetch');
    const status = /\/v1\/download\/status\/([0-9a-f-]+)(?:\?access_token=[\w-]+)?$/.exec(input);
    if (method === 'GET' && status) {
      const doc = this.docs.get(status[1]);
      return doc ? json(200, doc) : json(404, { title: 'Not Found', status: 404, detail: 'job not found' }, 'application/problem+json');
    }
    if (method === 'POST' && input === '/v1/download/initiate') {
      const body = JSON.parse(String(init.body)) as { file_ids: number[] };
      const id = this.nextJobIds.shift()!;
      this.docs.set(id, statusDoc(id, 1, 'queued', files(body.file_ids)));
      const token = `jat_${id.slice(0, 8)}`;
      const query = this.accessTokens ? `?access_token=${token}` : '';
      return json(202, {
        job_id: id,
        status: 'queued',
        total_files: body.file_ids.length,
        websocket_url: `ws://host.example/ws/download/${id}${query}`,
        hub_url: `http://host.example/ws/download/${id}${query}`,
        status_url: `http://host.example/v1/download/status/${id}${query}`,
        result_url: `http://host.example/v1/download/result/${id}${query}`,
        events_url: `http://host.example/v1/download/events/${id}${query}`,
        ...(this.accessTokens ? { access_token: token } : {}),
      });
    }
    const action = /\/v1\/download\/([0-9a-f-]+)(\/pause|\/resume)?(?:\?access_token=[\w-]+)?$/.exec(input);
    if (action) {
      const doc = this.docs.get(action[1]);
      if (!doc) return json(404, { title: 'Not Found', status: 404 }, 'application/problem+json');
      if (method === 'DELETE') {
        if (doc.status === 'completed' || doc.status === 'failed') {
          return json(409, { title: 'Conflict', status: 409, detail: `The job is ${doc.status}.` }, 'application/problem+json');
        }
        const next = statusDoc(doc.job_id, doc.seq + 1, 'cancelled', doc.results.map((r) => (r.status === 'pending' ? { ...r, status: 'skipped' } : r)));
        this.docs.set(doc.job_id, next);
        return json(202, next);
      }
    }
    return json(404, { title: 'Not Found', status: 404 }, 'application/problem+json');
  };
}

/** A hub whose start succeeds or fails on demand, and whose server side the test drives. */
export class FakeHub implements HubLike {
  failStart = false;
  startCalls = 0;
  connected = false;
  transportName: HubTransportName = 'WebSockets';
  readonly invocations: [string, string, ...(string | number)[]][] = [];
  /** Answers to Subscribe: the snapshot the server would push. */
  snapshotFor: (jobId: string) => JobEvent | null = () => null;
  /** Answers to SubscribeFrom: the events after lastSeq the server would replay; by default, a snapshot. */
  replayFor: (jobId: string, lastSeq: number) => JobEvent[] = (jobId) => {
    const snapshot = this.snapshotFor(jobId);
    return snapshot ? [snapshot] : [];
  };
  private update: (e: JobEvent) => void = () => undefined;
  private reconnecting: (e?: Error) => void = () => undefined;
  private reconnected: () => void = () => undefined;
  private closed: (e?: Error) => void = () => undefined;

  async start(): Promise<void> {
    this.startCalls++;
    if (this.failStart) throw new Error('Failed to complete negotiation with the server');
    this.connected = true;
  }
  async stop(): Promise<void> {
    this.connected = false;
  }
  async invoke(method: HubMethod, jobId: string, ...args: (string | number)[]): Promise<unknown> {
    this.invocations.push([method, jobId, ...args]);
    if (!this.connected) throw new Error('not connected');
    const lastSeq = typeof args[0] === 'number' ? args[0] : undefined;
    if (method === 'Subscribe' || method === 'SubscribeWithToken') {
      const snapshot = this.snapshotFor(jobId);
      if (snapshot) queueMicrotask(() => this.update(snapshot));
    }
    if (method === 'SubscribeFrom' || method === 'SubscribeFromWithToken') {
      const events = this.replayFor(jobId, lastSeq!);
      queueMicrotask(() => events.forEach((e) => this.update(e)));
    }
    return null;
  }
  onUpdate(handler: (e: JobEvent) => void): void {
    this.update = handler;
  }
  onReconnecting(handler: (e?: Error) => void): void {
    this.reconnecting = handler;
  }
  onReconnected(handler: () => void): void {
    this.reconnected = handler;
  }
  onClose(handler: (e?: Error) => void): void {
    this.closed = handler;
  }
  transport(): HubTransportName | null {
    return this.connected ? this.transportName : null;
  }

  push(e: JobEvent): void {
    this.update(e);
  }
  /** Subscriptions of either kind. */
  subscribes(jobId?: string): number {
    return this.invocations.filter(([m, id]) => m.startsWith('Subscribe') && (!jobId || id === jobId)).length;
  }
  /** The last_seq of each SubscribeFrom for the job. */
  replays(jobId: string): number[] {
    return this.invocations.filter(([m, id]) => m.startsWith('SubscribeFrom') && id === jobId).map(([, , seq]) => Number(seq));
  }
  dropAndReconnect(): void {
    this.connected = false;
    this.reconnecting(new Error('connection lost'));
    this.connected = true;
    this.reconnected();
  }
  dropForGood(): void {
    this.connected = false;
    this.reconnecting(new Error('connection lost'));
    this.closed(new Error('gave up'));
  }
}

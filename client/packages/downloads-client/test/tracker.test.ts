import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DownloadsClient, DownloadTracker, type TrackedJob, type TrackerOptions } from '../src';
import { event, FakeHub, FakeServer, files, JOB_A, JOB_B, MemoryStorage, statusDoc } from './fakes';

const IDS = [70000, 70007, 70014, 70001];

let server: FakeServer;
let storage: MemoryStorage;
let hub: FakeHub;
let clients: DownloadTracker[];
const STORAGE_KEY = 'downloads.test.jobs';

function makeClient(options: TrackerOptions = {}): DownloadTracker {
  const rest = new DownloadsClient({ baseUrl: '', fetch: server.fetch });
  const client = new DownloadTracker(rest, {
    storage,
    storageKey: STORAGE_KEY,
    hub: () => hub,
    schedule: (flush) => flush(),
    random: () => 0.5, // no jitter
    timings: { pollIntervalMs: 2000, safetyPollMs: 0, gapHoldMs: 1000, reconnectDelaysMs: [1000, 5000] },
    ...options,
  });
  clients.push(client);
  return client;
}

const flush = () => vi.advanceTimersByTimeAsync(0);

/** An open tracker (over the fake hub) that has started a job of IDS (JOB_A). */
async function openedWithJob(): Promise<DownloadTracker> {
  const client = makeClient();
  client.open();
  await client.start(IDS);
  await flush();
  return client;
}

beforeEach(() => {
  vi.useFakeTimers();
  server = new FakeServer();
  server.nextJobIds = [JOB_A, JOB_B];
  storage = new MemoryStorage();
  hub = new FakeHub();
  clients = [];
});

afterEach(async () => {
  for (const c of clients) await c.close();
  vi.useRealTimers();
});

describe('polling fallback', () => {
  it('polls status_url every 2 s while the hub cannot connect, then returns to push', async () => {
    hub.failStart = true;
    const client = makeClient();
    client.open();
    await flush();
    expect(client.getSnapshot().mode).toBe('polling');
    expect(client.getSnapshot().transport).toBe('Polling');

    await client.start(IDS);
    await flush();
    const afterLoad = server.statusGets(JOB_A);
    expect(afterLoad).toBe(1);

    server.docs.set(JOB_A, statusDoc(JOB_A, 4, 'processing', [...files([70000], 'completed'), ...files([70007, 70014, 70001])]));
    await vi.advanceTimersByTimeAsync(1999);
    expect(server.statusGets(JOB_A)).toBe(afterLoad);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.statusGets(JOB_A)).toBe(afterLoad + 1);
    const job = client.getJob(JOB_A)!;
    expect(job.seq).toBe(4);
    expect(job.percent).toBe(25);
    expect(job.transport).toBe('Polling');
    expect(hub.startCalls).toBeGreaterThanOrEqual(2); // retried in the background (1 s, then 5 s)

    // The hub comes back at the next retry: push again, the job subscribed, polling stopped.
    hub.failStart = false;
    await vi.advanceTimersByTimeAsync(5000);
    expect(client.getSnapshot().mode).toBe('push');
    expect(client.getSnapshot().transport).toBe('WebSockets');
    expect(hub.subscribes(JOB_A)).toBe(1);
    const polled = server.statusGets(JOB_A);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(server.statusGets(JOB_A)).toBe(polled);
  });

  it('with the hub off, only polls, and stops polling a job once it has ended', async () => {
    hub.failStart = true;
    const ended: TrackedJob[] = [];
    const client = makeClient({ hub: 'off', onJobEnded: (j) => ended.push(j) });
    client.open();
    expect(client.getSnapshot().mode).toBe('off');
    await client.start(IDS);
    await flush();

    server.docs.set(JOB_A, statusDoc(JOB_A, 9, 'completed', files(IDS, 'completed'), { expires_at: '2026-11-28T11:00:00Z' }));
    await vi.advanceTimersByTimeAsync(2000);
    const job = client.getJob(JOB_A)!;
    expect(job.status).toBe('completed');
    expect(job.expiresAt).toBe('2026-11-28T11:00:00Z');
    expect(ended.map((j) => j.jobId)).toEqual([JOB_A]);

    const gets = server.statusGets(JOB_A);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(server.statusGets(JOB_A)).toBe(gets);
    expect(hub.startCalls).toBe(0);
  });

  it('polls while the hub reconnects and re-subscribes every followed job afterwards', async () => {
    const client = makeClient();
    client.open();
    await flush();
    await client.start(IDS);
    await client.start([70021]);
    await flush();
    expect(hub.subscribes(JOB_A)).toBe(1);
    expect(hub.subscribes(JOB_B)).toBe(1);

    // JOB_B ends; it is unsubscribed and not followed any more.
    hub.push(event(JOB_B, 2, { type: 'completed', status: 'completed', completed: 1, total: 1, progress_percent: 100, results: files([70021], 'completed') }));
    await flush();
    expect(hub.invocations).toContainEqual(['Unsubscribe', JOB_B]);

    hub.dropAndReconnect();
    await flush();
    expect(hub.subscribes(JOB_A)).toBe(2);
    expect(hub.subscribes(JOB_B)).toBe(1);
    expect(client.getSnapshot().mode).toBe('push');

    // Given up for good: polling, and the hub is started again in the background.
    const starts = hub.startCalls;
    hub.failStart = true;
    hub.dropForGood();
    expect(client.getSnapshot().mode).toBe('polling');
    const gets = server.statusGets(JOB_A);
    const getsB = server.statusGets(JOB_B); // its load, and one read of the ended job's document
    expect(getsB).toBe(2);
    await vi.advanceTimersByTimeAsync(2000);
    expect(server.statusGets(JOB_A)).toBe(gets + 1);
    expect(server.statusGets(JOB_B)).toBe(getsB);
    expect(hub.startCalls).toBe(starts + 1); // at 1 s; the next try at 6 s
    hub.failStart = false;
    await vi.advanceTimersByTimeAsync(4000);
    expect(hub.startCalls).toBe(starts + 2);
    expect(client.getSnapshot().mode).toBe('push');
    expect(hub.subscribes(JOB_A)).toBe(3);
    expect(hub.subscribes(JOB_B)).toBe(1);
  });
});

describe('gaps over the hub', () => {
  it('re-subscribes for a snapshot when a gap stays open for a second', async () => {
    const client = await openedWithJob();
    hub.push(event(JOB_A, 2, { type: 'snapshot', results: files(IDS) }));
    hub.push(event(JOB_A, 4, { completed: 2, progress_percent: 50 }));
    expect(client.getJob(JOB_A)!.seq).toBe(2);

    await vi.advanceTimersByTimeAsync(999);
    expect(hub.subscribes(JOB_A)).toBe(1);
    hub.snapshotFor = (id) => event(id, 5, { type: 'snapshot', completed: 3, progress_percent: 75, results: files(IDS) });
    await vi.advanceTimersByTimeAsync(1);
    expect(hub.subscribes(JOB_A)).toBe(2);
    await flush();
    const job = client.getJob(JOB_A)!;
    expect(job.seq).toBe(5);
    expect(job.completed).toBe(3);
    expect(job.sequence.held).toEqual([]);
    expect(job.transport).toBe('WebSockets');
  });

  it('does not re-sync when the missing event arrives in time', async () => {
    const client = await openedWithJob();
    const gets = server.statusGets(JOB_A);
    hub.push(event(JOB_A, 2, { type: 'snapshot', results: files(IDS) }));
    hub.push(event(JOB_A, 4, { completed: 2 }));
    await vi.advanceTimersByTimeAsync(400);
    hub.push(event(JOB_A, 3, { completed: 1 }));
    await vi.advanceTimersByTimeAsync(5000);
    expect(client.getJob(JOB_A)!.seq).toBe(4);
    expect(client.getJob(JOB_A)!.completed).toBe(2);
    expect(hub.subscribes(JOB_A)).toBe(1);
    expect(server.statusGets(JOB_A)).toBe(gets);
  });
});

describe('replay on reconnect', () => {
  it('resumes each job after the seq it has when the hub reconnects, and applies the replayed events', async () => {
    const client = makeClient();
    client.open();
    await flush();
    await client.start(IDS);
    await flush();
    expect(hub.invocations).toContainEqual(['Subscribe', JOB_A]);
    hub.push(event(JOB_A, 2, { type: 'snapshot', results: files(IDS) }));
    hub.push(event(JOB_A, 3, { completed: 1, progress_percent: 25 }));
    const gets = server.statusGets(JOB_A);

    hub.replayFor = (id, lastSeq) => [lastSeq + 1, lastSeq + 2].map((seq) => event(id, seq, { completed: seq - 2, progress_percent: (seq - 2) * 25 }));
    hub.dropAndReconnect();
    await flush();

    expect(hub.replays(JOB_A)).toEqual([3]);
    const job = client.getJob(JOB_A)!;
    expect(job.seq).toBe(5);
    expect(job.completed).toBe(3);
    expect(job.sequence.held).toEqual([]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(server.statusGets(JOB_A)).toBe(gets);
    expect(hub.subscribes(JOB_A)).toBe(2);
  });

  it('asks the hub for the missing events when a gap stays open', async () => {
    const client = await openedWithJob();
    hub.push(event(JOB_A, 2, { type: 'snapshot', results: files(IDS) }));
    hub.push(event(JOB_A, 4, { completed: 2, progress_percent: 50 }));
    hub.replayFor = (id) => [event(id, 3, { completed: 1, progress_percent: 25 }), event(id, 4, { completed: 2, progress_percent: 50 })];

    await vi.advanceTimersByTimeAsync(1000);
    await flush();

    expect(hub.replays(JOB_A)).toEqual([2]);
    const job = client.getJob(JOB_A)!;
    expect(job.seq).toBe(4);
    expect(job.completed).toBe(2);
    expect(job.sequence.held).toEqual([]);
  });
});

describe('persistence', () => {
  it('remembers started jobs, and a new page picks them up from the status document', async () => {
    const first = makeClient();
    first.open();
    await first.start(IDS);
    const stored = JSON.parse(storage.getItem(STORAGE_KEY)!) as { job_id: string }[];
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ job_id: JOB_A });
    await first.close();

    server.docs.set(JOB_A, statusDoc(JOB_A, 6, 'processing', [...files([70000, 70007], 'completed'), ...files([70014, 70001])]));
    const second = makeClient();
    second.open();
    await flush();
    const job = second.getJob(JOB_A)!;
    expect(job.seq).toBe(6);
    expect(job.completed).toBe(2);
    expect(hub.subscribes(JOB_A)).toBeGreaterThanOrEqual(2);
  });

  it('removes a dismissed job and follows the list other tabs write', async () => {
    const client = await openedWithJob();
    hub.push(event(JOB_A, 2, { type: 'cancelled', status: 'cancelled', results: files(IDS, 'skipped') }));
    client.dismiss(JOB_A);
    expect(client.getSnapshot().jobs).toEqual([]);
    expect(storage.getItem(STORAGE_KEY)).toBeNull();

    // Another tab started JOB_B...
    server.docs.set(JOB_B, statusDoc(JOB_B, 3, 'processing', files([70021])));
    client.handleStorageChange(JSON.stringify([{ job_id: JOB_B, status_url: `http://elsewhere/v1/download/status/${JOB_B}`, added_at: 5 }]));
    await flush();
    expect(client.getSnapshot().jobs.map((j) => j.jobId)).toEqual([JOB_B]);
    expect(client.getJob(JOB_B)!.seq).toBe(3);
    expect(hub.subscribes(JOB_B)).toBe(1);
    // ...and then dismissed it there.
    client.handleStorageChange(null);
    expect(client.getSnapshot().jobs).toEqual([]);
  });

  it('marks a remembered job the server no longer knows as lost', async () => {
    storage.setItem(STORAGE_KEY, JSON.stringify([JOB_A]));
    const client = makeClient({ hub: 'off' });
    client.open();
    await flush();
    const job = client.getJob(JOB_A)!;
    expect(job.lost).toBe(true);
    expect(job.error?.message).toMatch(/no longer exists/);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(server.statusGets(JOB_A)).toBe(1);
  });
});

describe('actions', () => {
  it('applies the status document of a cancel and shows a 409 on the card', async () => {
    const client = makeClient({ hub: 'off' });
    client.open();
    await client.start(IDS);
    await client.cancel(JOB_A);
    expect(client.getJob(JOB_A)!.status).toBe('cancelled');
    expect(client.getJob(JOB_A)!.results.every((r) => r.status === 'skipped')).toBe(true);

    await client.start([70021]);
    server.docs.set(JOB_B, statusDoc(JOB_B, 5, 'completed', files([70021], 'completed')));
    await client.cancel(JOB_B);
    expect(client.getJob(JOB_B)!.actionError?.message).toBe('The job is completed.');
    expect(client.getJob(JOB_B)!.busy).toBeNull();
  });
});

describe('job access tokens', () => {
  it('keeps the token with the job it remembers and sends it with subscriptions and actions', async () => {
    server.accessTokens = true;
    const client = makeClient();
    client.open();
    await flush();

    await client.start(IDS);
    await flush();
    const token = `jat_${JOB_A.slice(0, 8)}`;
    expect(client.connectionAccessToken()).toBe(token);
    await client.cancel(JOB_A);

    expect(hub.invocations).toContainEqual(['SubscribeWithToken', JOB_A, token]);
    expect(server.requests.some((r) => r.method === 'DELETE' && r.url === `/v1/download/${JOB_A}?access_token=${token}`)).toBe(true);
    expect(JSON.parse(storage.getItem(STORAGE_KEY)!)[0]).toMatchObject({ job_id: JOB_A, access_token: token });
    expect(client.connectionAccessToken()).toBe(undefined); // the job has ended: nothing to follow
  });
});

describe('a job handed over by a back end', () => {
  it('is followed with its token, which it keeps for the next page load', async () => {
    server.docs.set(JOB_A, statusDoc(JOB_A, 2, 'processing', files(IDS)));
    const client = makeClient();

    client.adopt(JOB_A, 'jat_handed');
    client.open();
    await flush();

    expect(server.requests.some((r) => r.method === 'GET' && r.url === `/v1/download/status/${JOB_A}?access_token=jat_handed`)).toBe(true);
    expect(client.connectionAccessToken()).toBe('jat_handed');
    expect(hub.invocations.some(([method, id, ...args]) => method.endsWith('WithToken') && id === JOB_A && args.includes('jat_handed'))).toBe(true);
    expect(JSON.parse(storage.getItem(STORAGE_KEY)!)[0]).toMatchObject({ job_id: JOB_A, access_token: 'jat_handed' });
  });

  it('is followed at once when the tracker is open', async () => {
    server.docs.set(JOB_B, statusDoc(JOB_B, 3, 'processing', files([70021])));
    const client = makeClient();
    client.open();
    await flush();

    client.adopt(JOB_B.toUpperCase(), 'jat_b');
    await flush();

    expect(client.getJob(JOB_B)!.seq).toBe(3);
    expect(hub.invocations).toContainEqual(['SubscribeWithToken', JOB_B, 'jat_b']);
    expect(() => client.adopt('not-a-job')).toThrow(TypeError);
  });
});

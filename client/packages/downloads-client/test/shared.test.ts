// The tracker's one hub connection for many jobs (what useDownloads and the browser app use) against the real
// service, in memory and on two API nodes of a Redis deployment: cut mid-job, it reconnects and resumes every job
// with SubscribeFrom(job_id, last_seq), so the events it missed are replayed and none is lost.
import { describe, expect, it, vi } from 'vitest';
import { DownloadsClient, DownloadTracker, type JobEvent, type TrackedJob } from '../src';
import { tapsHub } from './network';
import { existingFiles, redisApiUrls, serviceUrl } from './service';

// Polling waits long: while the connection is back within a second, the replay (not a poll) must fill the gap.
const timings = { pollIntervalMs: 20_000, gapHoldMs: 10_000, safetyPollMs: 0, reconnectDelaysMs: [200, 500] };

/** Waits until every job in `jobIds` has ended in the tracker. */
async function ended(tracker: DownloadTracker, jobIds: string[]): Promise<TrackedJob[]> {
  await vi.waitFor(
    () => {
      if (!jobIds.every((id) => tracker.getJob(id)?.ended)) throw new Error('not ended yet');
    },
    { timeout: 60_000, interval: 50 },
  );
  return jobIds.map((id) => tracker.getJob(id)!);
}

/** On the wire, per job: every seq from the first update to the last arrived at least once (nothing lost). */
function expectNothingLost(updates: JobEvent[], jobId: string): void {
  const seqs = updates.filter((u) => u.job_id === jobId).map((u) => u.seq);
  const missing = [];
  for (let seq = Math.min(...seqs); seq <= Math.max(...seqs); seq++) if (!seqs.includes(seq)) missing.push(seq);
  expect(missing).toEqual([]);
}

/** Two jobs on one connection, cut after a few updates: both complete, every event arrives, and the cut was replayed. */
async function cutMidJob(startOn: string, followOn: string): Promise<void> {
  const tap = tapsHub(4);
  const starter = new DownloadsClient({ baseUrl: startOn });
  const follower = new DownloadsClient({ baseUrl: followOn, timings, hubOptions: { WebSocket: tap.WebSocket } });
  const tracker = new DownloadTracker(follower, { storage: null, hub: 'WebSockets', schedule: (flush) => flush() });
  tracker.open();
  const jobs = await Promise.all([starter.initiate(existingFiles(8)), starter.initiate(existingFiles(6))]);
  const jobIds = jobs.map((j) => j.job_id);
  // The tracker follows jobs it is told about, e.g. by another tab through storage.
  tracker.handleStorageChange(JSON.stringify(jobIds.map((job_id, i) => ({ job_id, added_at: i }))));
  const finished = await ended(tracker, jobIds);
  await tracker.close();

  expect(tap.cuts()).toBe(1);
  for (const job of finished) {
    expect(job.status).toBe('completed');
    expect(job.results.every((r) => r.status === 'completed' && r.download_url)).toBe(true);
    expect(job.transport).toBe('WebSockets');
    expectNothingLost(tap.updates, job.jobId);
  }
  // After the cut the connection resumed each job it was following from its seq: events, not a fresh snapshot.
  const beforeCut = tap.updates.slice(0, tap.cutAt());
  const afterCut = tap.updates.slice(tap.cutAt());
  const resumed = jobIds.filter((id) => beforeCut.some((u) => u.job_id === id) && afterCut.some((u) => u.job_id === id));
  expect(resumed.length).toBeGreaterThan(0);
  for (const id of resumed) expect(afterCut.find((u) => u.job_id === id)!.type).not.toBe('snapshot');
}

describe('one shared hub connection for many jobs', () => {
  it('in memory: cut mid-job, it resumes every job with SubscribeFrom, losing nothing', async () => {
    await cutMidJob(serviceUrl(), serviceUrl());
  });

  it('Redis, two API nodes: jobs started on one node, followed on the other through a cut, losing nothing', async () => {
    const [a, b] = redisApiUrls();
    await cutMidJob(a, b);
  });
});

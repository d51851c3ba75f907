import { describe, expect, it } from 'vitest';
import { applyDocument as applyStatusDocument, createTrackedJob, estimateEtaSeconds, isFollowed, jobActions, markResyncRequested, receiveEvent as applyEvent, type TrackedJob as JobState } from '../src/trackedJob';
import { gapExpired } from '../src/sequence';
import { event, file, files, JOB_A, statusDoc } from './fakes';

const IDS = [70000, 70007, 70014, 70001];

function loaded(seq = 2): JobState {
  const job = createTrackedJob(JOB_A, 0);
  return applyStatusDocument(job, statusDoc(JOB_A, seq, 'processing', files(IDS)), 0);
}

function apply(job: JobState, ...events: Parameters<typeof event>[]): JobState {
  return events.reduce((state, args) => applyEvent(state, event(...args), 0), job);
}

describe('tracked job state', () => {
  it('applies events in seq order and updates the changed file row only', () => {
    let job = loaded(2);
    job = applyEvent(job, event(JOB_A, 3, { current_file: 70000, file: file(70000, 'processing', { attempts: 1 }) }), 10);
    job = applyEvent(
      job,
      event(JOB_A, 4, { completed: 1, progress_percent: 25, file: file(70000, 'completed', { size: 2048, download_url: 'https://x/f', attempts: 1 }) }),
      20,
    );
    expect(job.seq).toBe(4);
    expect(job.completed).toBe(1);
    expect(job.percent).toBe(25);
    expect(job.results.map((r) => r.status)).toEqual(['completed', 'pending', 'pending', 'pending']);
    expect(job.results[0]).toMatchObject({ size: 2048, download_url: 'https://x/f', attempts: 1, error: null });
  });

  it('drops duplicates and events at or below the current seq', () => {
    const job = apply(loaded(2), [JOB_A, 3, { completed: 1, progress_percent: 25 }]);
    const again = applyEvent(job, event(JOB_A, 3, { completed: 2, progress_percent: 50 }), 0);
    const older = applyEvent(job, event(JOB_A, 2, { status: 'paused' }), 0);
    expect(again).toBe(job);
    expect(older).toBe(job);
    expect(job.completed).toBe(1);
  });

  it('ignores events of another job', () => {
    const job = loaded(2);
    expect(applyEvent(job, event('00000000-0000-4000-8000-000000000000', 3), 0)).toBe(job);
  });

  it('holds an event past a gap and applies it once the missing one arrives', () => {
    let job = loaded(2);
    job = applyEvent(job, event(JOB_A, 4, { completed: 2, progress_percent: 50 }), 100);
    expect(job.seq).toBe(2);
    expect(job.completed).toBe(0);
    expect(job.sequence.held.map((e) => e.seq)).toEqual([4]);
    expect(job.sequence.gapSince).toBe(100);

    job = applyEvent(job, event(JOB_A, 3, { completed: 1, progress_percent: 25 }), 300);
    expect(job.seq).toBe(4);
    expect(job.completed).toBe(2);
    expect(job.sequence.held).toEqual([]);
    expect(job.sequence.gapSince).toBeNull();
  });

  it('asks for a re-sync only after the gap stayed open for the hold time', () => {
    let job = applyEvent(loaded(2), event(JOB_A, 5), 1000);
    expect(gapExpired(job.sequence, 1999, 1000)).toBe(false);
    expect(gapExpired(job.sequence, 2000, 1000)).toBe(true);
    job = markResyncRequested(job, 2000);
    expect(gapExpired(job.sequence, 2500, 1000)).toBe(false);
    expect(gapExpired(loaded(2).sequence, 99_999, 1000)).toBe(false);
  });

  it('resolves a gap with a later snapshot, dropping held events it covers', () => {
    let job = loaded(2);
    job = applyEvent(job, event(JOB_A, 4), 0);
    job = applyEvent(job, event(JOB_A, 7, { completed: 3, progress_percent: 75 }), 0);
    const results = files(IDS).map((r, i) => (i < 2 ? { ...r, status: 'completed' as const } : r));
    job = applyEvent(job, event(JOB_A, 6, { type: 'snapshot', completed: 2, progress_percent: 50, results }), 0);
    // The snapshot (6) covers 4; 7 follows it directly and is applied.
    expect(job.seq).toBe(7);
    expect(job.completed).toBe(3);
    expect(job.sequence.held).toEqual([]);
    expect(job.sequence.gapSince).toBeNull();
    expect(job.results.filter((r) => r.status === 'completed')).toHaveLength(2);
  });

  it('lets a snapshot after a reconnect replace the whole state, results included', () => {
    let job = apply(loaded(2), [JOB_A, 3, { file: file(70000, 'processing', { attempts: 1 }) }]);
    const results = [
      file(70000, 'completed', { download_url: 'https://x/0', size: 10, sha256: 'a', attempts: 1 }),
      file(70007, 'failed', { attempts: 3, error_code: 'not_found', error: 'File not available' }),
      file(70014, 'processing', { attempts: 1 }),
      file(70001, 'pending'),
    ];
    job = applyEvent(job, event(JOB_A, 9, { type: 'snapshot', status: 'paused', completed: 1, failed: 1, progress_percent: 50, results }), 0);
    expect(job.seq).toBe(9);
    expect(job.status).toBe('paused');
    expect(job.failed).toBe(1);
    expect(job.results).toEqual(results);
    // A stale snapshot from before the reconnect changes nothing.
    expect(applyEvent(job, event(JOB_A, 8, { type: 'snapshot', results: files(IDS) }), 0)).toBe(job);
  });

  it('never lets the percentage go down', () => {
    let job = apply(loaded(2), [JOB_A, 3, { progress_percent: 60 }]);
    job = apply(job, [JOB_A, 4, { progress_percent: 40 }]);
    expect(job.seq).toBe(4);
    expect(job.percent).toBe(60);
    job = applyStatusDocument(job, { ...statusDoc(JOB_A, 5, 'processing', files(IDS)), progress: { completed: 0, failed: 0, total: 4, percent: 10, current_file: null } }, 0);
    expect(job.percent).toBe(60);
    job = apply(job, [JOB_A, 6, { progress_percent: 250 }]);
    expect(job.percent).toBe(100);
  });

  it('stops following at a terminal event, applying it even across a gap', () => {
    let job = loaded(2);
    expect(isFollowed(job)).toBe(true);
    const results = files(IDS, 'completed');
    job = applyEvent(job, event(JOB_A, 12, { type: 'completed', status: 'completed', completed: 4, progress_percent: 100, results }), 0);
    expect(job.status).toBe('completed');
    expect(job.seq).toBe(12);
    expect(job.results).toEqual(results);
    expect(isFollowed(job)).toBe(false);
    expect(gapExpired({ ...job.sequence, held: [event(JOB_A, 14)], gapSince: 0 }, 10_000, 1000)).toBe(false);
    expect(jobActions(job)).toEqual({ canPause: false, canResume: false, canCancel: false, canDismiss: true, canRetry: false });
  });

  it('applies status documents with a seq at or above the current one only', () => {
    const job = apply(loaded(2), [JOB_A, 3, { completed: 1 }], [JOB_A, 4, { completed: 2 }]);
    expect(applyStatusDocument(job, statusDoc(JOB_A, 3, 'queued', files(IDS)), 0)).toBe(job);
    const doc = statusDoc(JOB_A, 4, 'processing', files(IDS), { expires_at: '2026-11-28T11:00:00Z' });
    const same = applyStatusDocument(job, doc, 0);
    expect(same.expiresAt).toBe('2026-11-28T11:00:00Z');
    expect(same.seq).toBe(4);
  });

  it('estimates the time left from the progress rate while processing', () => {
    let job = loaded(2); // processing at 0 % at t = 0
    expect(estimateEtaSeconds(job, 0)).toBeNull();
    job = applyEvent(job, event(JOB_A, 3, { progress_percent: 20 }), 10_000);
    // 20 % in 10 s: the remaining 80 % take 40 s.
    expect(estimateEtaSeconds(job, 10_000)).toBe(40);
    expect(estimateEtaSeconds(job, 15_000)).toBe(35);
    job = applyEvent(job, event(JOB_A, 4, { type: 'paused', status: 'paused', progress_percent: 20 }), 11_000);
    expect(estimateEtaSeconds(job, 11_000)).toBeNull();
  });

  it('enables the actions the state allows', () => {
    const processing = loaded(2);
    expect(jobActions(processing)).toEqual({ canPause: true, canResume: false, canCancel: true, canDismiss: false, canRetry: false });
    const paused = apply(processing, [JOB_A, 3, { type: 'paused', status: 'paused' }]);
    expect(jobActions(paused)).toEqual({ canPause: false, canResume: true, canCancel: true, canDismiss: false, canRetry: false });
    expect(jobActions({ ...paused, busy: 'resume' }).canResume).toBe(false);
  });

  it('keeps the archive link and the retried job from the status document, and offers a retry only after failures', () => {
    const ended = applyStatusDocument(
      loaded(2),
      { ...statusDoc(JOB_A, 9, 'completed', files(IDS)), archive_url: 'http://h/v1/archives/a?x', retry_of: 'b', progress: { completed: 3, failed: 1, total: 4, percent: 100, current_file: null } },
      0,
    );
    expect(ended.archiveUrl).toBe('http://h/v1/archives/a?x');
    expect(ended.retryOf).toBe('b');
    expect(jobActions(ended).canRetry).toBe(true);
    expect(jobActions({ ...ended, failed: 0 }).canRetry).toBe(false);
    expect(jobActions(loaded(2)).canRetry).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { EMPTY_SEQUENCE, gapExpired, receive, resync, type Sequence } from '../src/sequence';
import type { JobEvent, StatusDocument } from '../src';

const job = '3f0c0000-0000-4000-8000-000000000000';

function event(seq: number, type: JobEvent['type'] = 'progress', status: JobEvent['status'] = 'processing'): JobEvent {
  return { type, job_id: job, seq, status, completed: 0, failed: 0, total: 2, current_file: null, progress_percent: 0, ...(type === 'snapshot' || status !== 'processing' ? { results: [] } : {}) };
}

function feed(events: JobEvent[], start: Sequence = EMPTY_SEQUENCE): { sequence: Sequence; seqs: number[] } {
  let sequence = start;
  const seqs: number[] = [];
  for (const e of events) {
    const step = receive(sequence, e, 0);
    sequence = step.sequence;
    seqs.push(...step.accepted.map((a) => a.seq));
  }
  return { sequence, seqs };
}

describe('sequence rules', () => {
  it('drops what it already has', () => {
    expect(feed([event(3, 'snapshot'), event(4), event(4), event(2), event(3)]).seqs).toEqual([3, 4]);
  });

  it('holds events past a gap until the missing one arrives', () => {
    const { sequence, seqs } = feed([event(1, 'snapshot'), event(3), event(4), event(2)]);
    expect(seqs).toEqual([1, 2, 3, 4]);
    expect(sequence.gapSince).toBeNull();
  });

  it('reports a gap that stays open, and a newer status document closes it', () => {
    const { sequence, seqs } = feed([event(1, 'snapshot'), event(3)]);
    expect(seqs).toEqual([1]);
    expect(gapExpired(sequence, 999, 1000)).toBe(false);
    expect(gapExpired(sequence, 1000, 1000)).toBe(true);
    const doc: StatusDocument = {
      job_id: job, status: 'processing', seq: 2, created_at: '', started_at: null, completed_at: null,
      progress: { completed: 0, failed: 0, total: 2, percent: 0, current_file: null }, results: [], expires_at: null, webhook: null,
    };
    const step = resync(sequence, doc, 1000);
    expect(step.accepted.map((a) => [a.type, a.seq])).toEqual([['snapshot', 2], ['progress', 3]]);
    expect(step.sequence.gapSince).toBeNull();
  });

  it('takes a snapshot past a gap as the whole state, and stops after a terminal status', () => {
    const { sequence, seqs } = feed([event(1, 'snapshot'), event(5, 'snapshot'), event(6, 'completed', 'completed'), event(7)]);
    expect(seqs).toEqual([1, 5, 6]);
    expect(sequence.ended).toBe(true);
  });
});

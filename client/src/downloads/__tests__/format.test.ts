import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatRelative } from '../format';

describe('format', () => {
  it('shows sizes, durations and expiry for people', () => {
    expect(formatBytes(null)).toBe('—');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1024000)).toBe('1000 KB');
    expect(formatBytes(3 * 1024 * 1024)).toBe('3.0 MB');
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(185)).toBe('3 min 5 s');
    expect(formatDuration(3720)).toBe('1 h 2 min');
    const now = Date.parse('2026-11-28T10:00:00Z');
    expect(formatRelative('2026-11-28T10:59:59Z', now)).toBe('in 1 h');
    expect(formatRelative('2026-11-28T10:42:10Z', now)).toBe('in 42 min');
    expect(formatRelative('2026-11-28T11:30:00Z', now)).toBe('in 1 h 30 min');
    expect(formatRelative('2026-11-28T09:00:00Z', now)).toBe('expired');
  });
});

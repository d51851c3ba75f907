namespace Downloads.Jobs.Storage;

/// <summary>
/// Storage without disks, for demos and tests: a file exists when <c>file_id % 7 == 0</c>; its size
/// (16 KiB to ~3 MiB, or <paramref name="sizeBytes"/> for every file when given) and bytes are derived from its id,
/// so every node serves the same bytes.
/// </summary>
public sealed class SyntheticFileStorage(long? sizeBytes = null) : IFileStorage
{
    private const long MinSize = 16 * 1024;
    private const long SizeSpread = 3 * 1024 * 1024;

    // A fixed date: the bytes never change, so neither does their version.
    private static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static bool Exists(long fileId) => fileId > 0 && fileId % 7 == 0;

    private long SizeOf(long fileId) => sizeBytes ?? MinSize + (long)((ulong)fileId * 2654435761UL % (ulong)SizeSpread);

    public Task<StoredFile?> FindAsync(long fileId, CancellationToken cancellationToken) =>
        Task.FromResult(Exists(fileId) ? new StoredFile(fileId, SizeOf(fileId), Epoch) : null);

    public Task<Stream?> OpenReadAsync(long fileId, CancellationToken cancellationToken) =>
        Task.FromResult<Stream?>(Exists(fileId) ? new SyntheticFileStream(fileId, SizeOf(fileId)) : null);
}

/// <summary>A read-only, seekable stream of deterministic bytes: block i is SplitMix64(seed + i).</summary>
internal sealed class SyntheticFileStream(long fileId, long length) : Stream
{
    private readonly ulong _seed = (ulong)fileId * 0x9E3779B97F4A7C15UL;
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => _position = Math.Clamp(value, 0, length);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var count = (int)Math.Min(buffer.Length, length - _position);
        for (var i = 0; i < count; i++)
        {
            var position = _position + i;
            var block = SplitMix64(_seed + (ulong)(position >> 3));
            buffer[i] = (byte)(block >> (int)((position & 7) * 8));
        }

        _position += count;
        return count;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => length + offset,
    };

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private static ulong SplitMix64(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }
}

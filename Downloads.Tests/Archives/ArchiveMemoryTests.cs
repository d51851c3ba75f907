using System.Diagnostics;
using Downloads.Jobs.Storage;
using Downloads.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Xunit.Abstractions;

namespace Downloads.Tests.Archives;

/// <summary>Allocations are counted process-wide: this runs alone, not beside other tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ArchiveMemoryCollection
{
    public const string Name = "archive memory";
}

/// <summary>The archive is streamed: a gigabyte goes through without the process allocating anything like it.</summary>
[Collection(ArchiveMemoryCollection.Name)]
public sealed class ArchiveMemoryTests(ITestOutputHelper output)
{
    private const int Files = 1000;
    private const int MiB = 1024 * 1024;

    [Fact]
    public async Task A_1000_file_archive_of_1_MB_files_streams_with_flat_memory()
    {
        await using var app = new DownloadsApplication()
            .With("Downloads:Processing:DelayMinMs", "0")
            .With("Downloads:Processing:DelayMaxMs", "0")
            .With("Downloads:Processing:MaxParallelFilesPerJob", "16")
            .WithServices(services =>
            {
                services.RemoveAll<IFileStorage>();
                services.AddSingleton<IFileStorage>(new UniformFileStorage(MiB));
            });
        var api = new DownloadsApi(app.CreateApiClient());
        api.Http.Timeout = TimeSpan.FromMinutes(5);
        var job = await api.InitiateAsync([.. Enumerable.Range(0, Files).Select(i => 100_000L + i)]);
        var ended = await api.WaitForEndAsync(job.JobId, TimeSpan.FromMinutes(4));
        ended.Progress.Completed.Should().Be(Files);

        var buffer = new byte[64 * 1024];
        GC.Collect();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        using var response = await api.Http.GetAsync(ended.ArchiveUrl, HttpCompletionOption.ResponseHeadersRead).DefaultTimeout();
        await using var body = await response.Content.ReadAsStreamAsync();
        long received = 0;
        int read;
        while ((read = await body.ReadAsync(buffer).AsTask().DefaultTimeout(TimeSpan.FromMinutes(1))) > 0)
        {
            received += read;
        }

        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var heap = GC.GetGCMemoryInfo().HeapSizeBytes;
        output.WriteLine($"archive {received:N0} bytes in {clock.Elapsed.TotalSeconds:0.0} s; allocated during the request {allocated:N0} bytes; heap after {heap:N0} bytes");
        response.Content.Headers.ContentLength.Should().Be(received);
        received.Should().BeGreaterThan((long)Files * MiB);
        allocated.Should().BeLessThan(128L * MiB, "the archive (1 GB) is streamed, never held in memory");
    }

    /// <summary>Every file exists and has <paramref name="size"/> cheap bytes (the archive, not the storage, is measured).</summary>
    private sealed class UniformFileStorage(int size) : IFileStorage
    {
        private static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public Task<StoredFile?> FindAsync(long fileId, CancellationToken cancellationToken) =>
            Task.FromResult<StoredFile?>(new StoredFile(fileId, size, Epoch));

        public Task<Stream?> OpenReadAsync(long fileId, CancellationToken cancellationToken) =>
            Task.FromResult<Stream?>(new FilledStream((byte)(fileId % 251), size));
    }

    private sealed class FilledStream(byte value, long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var count = (int)Math.Min(buffer.Length, length - _position);
            buffer[..count].Fill(value);
            _position += count;
            return count;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

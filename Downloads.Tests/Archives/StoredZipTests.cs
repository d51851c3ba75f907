using System.IO.Compression;
using Downloads.Jobs.Archives;

namespace Downloads.Tests.Archives;

/// <summary>The ZIP writer, read back by System.IO.Compression's reader.</summary>
public sealed class StoredZipTests
{
    private static readonly DateTimeOffset Modified = new(2026, 11, 28, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task The_archive_unzips_to_exactly_its_entries_and_has_the_announced_length()
    {
        var contents = Contents((700000, 1000), (700007, 0), (700014, 200_000));

        var (bytes, announced) = await ZipAsync(contents);

        bytes.LongLength.Should().Be(announced);
        Unzip(bytes).Should().BeEquivalentTo(contents, options => options.WithStrictOrdering());
    }

    [Fact]
    public async Task Entries_are_stored_with_their_crc()
    {
        var (bytes, _) = await ZipAsync(Contents((700000, 5000)));

        using var zip = new ZipArchive(new MemoryStream(bytes), ZipArchiveMode.Read);
        var entry = zip.Entries.Single();
        entry.CompressedLength.Should().Be(entry.Length, "entries are stored, not recompressed");
        entry.Crc32.Should().Be(System.IO.Hashing.Crc32.HashToUInt32(Bytes(700000, 5000)));
        entry.LastWriteTime.UtcDateTime.Should().Be(Modified.UtcDateTime);
    }

    [Fact]
    public async Task Zip64_records_where_sizes_and_offsets_need_them_unzip_alike()
    {
        // Four gigabytes is too much for a unit test: the same records, written from a low threshold, read alike.
        var contents = Contents((700000, 300), (700007, 100), (700014, 5));

        var (bytes, announced) = await ZipAsync(contents, zip64Threshold: 200);

        bytes.LongLength.Should().Be(announced);
        BitConverter.ToUInt32(bytes, bytes.Length - 22 - 20).Should().Be(0x07064b50u, "a ZIP64 end locator precedes the end record");
        Unzip(bytes).Should().BeEquivalentTo(contents, options => options.WithStrictOrdering());
    }

    [Fact]
    public async Task A_source_shorter_than_announced_stops_the_archive()
    {
        var entries = new[] { new ZipEntrySource("1.zip", 10) };

        var write = () => StoredZip.WriteAsync(Stream.Null, entries, (_, _) => Task.FromResult<Stream>(new MemoryStream(new byte[9])), Modified, CancellationToken.None);

        await write.Should().ThrowAsync<InvalidDataException>();
    }

    [Fact]
    public async Task A_source_longer_than_announced_stops_the_archive_before_its_extra_bytes()
    {
        var entries = new[] { new ZipEntrySource("1.zip", 10) };
        using var output = new MemoryStream();

        var write = () => StoredZip.WriteAsync(output, entries, (_, _) => Task.FromResult<Stream>(new MemoryStream(new byte[11])), Modified, CancellationToken.None);

        await write.Should().ThrowAsync<InvalidDataException>();
        output.Length.Should().Be(30 + "1.zip".Length + 10);
    }

    private static List<KeyValuePair<string, byte[]>> Contents(params (long Id, int Size)[] files) =>
        [.. files.Select(f => KeyValuePair.Create($"{f.Id}.zip", Bytes(f.Id, f.Size)))];

    private static byte[] Bytes(long seed, int size)
    {
        var bytes = new byte[size];
        new Random((int)seed).NextBytes(bytes);
        return bytes;
    }

    private static async Task<(byte[] Bytes, long Announced)> ZipAsync(List<KeyValuePair<string, byte[]>> contents, long zip64Threshold = StoredZip.Zip64Threshold)
    {
        var entries = contents.Select(c => new ZipEntrySource(c.Key, c.Value.Length)).ToList();
        using var output = new MemoryStream();
        await StoredZip.WriteAsync(
            output, entries, (i, _) => Task.FromResult<Stream>(new MemoryStream(contents[i].Value)), Modified, CancellationToken.None, zip64Threshold);
        return (output.ToArray(), StoredZip.LengthOf(entries, zip64Threshold));
    }

    private static List<KeyValuePair<string, byte[]>> Unzip(byte[] bytes)
    {
        using var zip = new ZipArchive(new MemoryStream(bytes), ZipArchiveMode.Read);
        return [.. zip.Entries.Select(e =>
        {
            using var stream = e.Open();
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return KeyValuePair.Create(e.FullName, copy.ToArray());
        })];
    }
}
